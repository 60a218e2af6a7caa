// A fleet: every StatefulSet of one run, in every kube context it goes to, in ordered waves.
// The runner builds it from the `waves` and `clusters` inputs before anything changes; the
// reporters show it as one view (one comment, one summary) when it holds more than one member.

/** One StatefulSet in one kube context. */
export interface FleetMember {
  readonly context: string;
  readonly namespace: string;
  readonly name: string;
}

/** StatefulSets (in one or more contexts) that roll out together, after the wave before. */
export interface FleetWave {
  /** 0-based, in the order the waves run. */
  readonly index: number;
  /** The wave's name as the user gave it, else `wave N` (1-based). */
  readonly name: string;
  readonly members: readonly FleetMember[];
}

export interface Fleet {
  readonly waves: readonly FleetWave[];
}

/** The key of a member (and of a report: its context, namespace and name). */
export function memberKey(m: FleetMember): string {
  return `${m.context}/${m.namespace}/${m.name}`;
}

/** More than one StatefulSet or context: the run is shown as one fleet view. */
export function isFleet(fleet: Fleet): boolean {
  return fleet.waves.reduce((n, w) => n + w.members.length, 0) > 1;
}
