// Waves: which StatefulSets of the manifests go together, in which order, in which contexts,
// and what a failure in one wave does to the others. Pure: the runner (src/runner/fleet/)
// asks, acts, and comes back with what happened.
//
// Worked example: waves `[zookeeper]`, `[kafka-*]` and clusters `staging`, `[eu-1, us-1]` make
// four fleet waves, in order: staging/zookeeper; staging/kafka-0, kafka-1; eu-1/zookeeper and
// us-1/zookeeper; eu-1/kafka-* and us-1/kafka-*. A wave starts only when every member of the
// wave before it succeeded.
import type { Fleet, FleetMember, FleetWave } from './fleet.ts';
import { matches } from './selector.ts';

/** One wave of the `waves` input: StatefulSets by name or glob, or by a label selector. */
export interface WaveSpec {
  readonly name: string | undefined;
  /** Names or globs (`*`, `?`), of `name` or `namespace/name`. */
  readonly statefulSets: readonly string[];
  /** A label selector on the StatefulSet's own labels (kubectl -l form). */
  readonly selector: string | undefined;
}

/** One wave of the `clusters` input: kube contexts that go together. */
export interface ClusterWave {
  readonly name: string | undefined;
  readonly contexts: readonly string[];
}

/**
 * What a failure does to the others (input `on-failure-others`):
 * - `keep`: the rest of the failed wave finishes; the waves before keep their new revision.
 * - `rollback-wave`: the rest of the failed wave stops and rolls back; the waves before keep.
 * - `rollback`: the rest of the failed wave stops and rolls back, then the waves before roll
 *   back, newest first.
 * Every case: the waves after the failed one do not start.
 */
export type OnFailureOthers = 'keep' | 'rollback-wave' | 'rollback';

/** A StatefulSet of the manifests, as the waves see it. */
export interface WaveCandidate {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The manifests' StatefulSets (by index) in waves; or why the `waves` input does not fit them. */
export type WaveAssignment =
  | { readonly kind: 'waves'; readonly waves: readonly (readonly number[])[] }
  | { readonly kind: 'refused'; readonly problem: string };

const label = (spec: WaveSpec, index: number) =>
  spec.name === undefined ? `wave ${index + 1}` : `wave ${index + 1} (${spec.name})`;

/**
 * Sorts the StatefulSets into the given waves. No waves: each StatefulSet is a wave of its own,
 * in file order (one after another, as without the input). Refused: a name or glob or selector
 * that matches no StatefulSet, a StatefulSet in two waves, a StatefulSet in none.
 */
export function assignWaves(
  specs: readonly WaveSpec[],
  candidates: readonly WaveCandidate[],
): WaveAssignment {
  if (specs.length === 0) return { kind: 'waves', waves: candidates.map((_, i) => [i]) };
  const waveOf = new Map<number, number>();
  const waves: number[][] = [];
  for (const [w, spec] of specs.entries()) {
    const members: number[] = [];
    for (const pattern of spec.statefulSets) {
      const found = candidates.flatMap((c, i) => (nameMatches(pattern, c) ? [i] : []));
      if (found.length === 0)
        return refused(
          `${label(spec, w)}: ${JSON.stringify(pattern)} names no StatefulSet of the manifests; ${known(candidates)}`,
        );
      members.push(...found);
    }
    if (spec.selector !== undefined) {
      const selector = spec.selector;
      const found = candidates.flatMap((c, i) => (matches(selector, c.labels) ? [i] : []));
      if (found.length === 0)
        return refused(
          `${label(spec, w)}: selector ${JSON.stringify(selector)} matches no StatefulSet of the manifests; ${known(candidates)}`,
        );
      members.push(...found);
    }
    for (const i of new Set(members)) {
      const other = waveOf.get(i);
      if (other !== undefined && other !== w)
        return refused(
          `${describe(candidates[i])} is in ${label(specs[other] as WaveSpec, other)} and in ${label(spec, w)}; name each StatefulSet in one wave only`,
        );
      waveOf.set(i, w);
    }
    waves.push([...new Set(members)].sort((a, b) => a - b));
  }
  const missing = candidates.flatMap((c, i) => (waveOf.has(i) ? [] : [describe(c)]));
  if (missing.length > 0)
    return refused(
      `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} in no wave; add ${missing.length === 1 ? 'it' : 'them'} to a wave (or a last wave of its own), so the order is the one you wrote`,
    );
  return { kind: 'waves', waves };
}

function refused(problem: string): WaveAssignment {
  return { kind: 'refused', problem };
}

const describe = (c: WaveCandidate | undefined) => (c === undefined ? '?' : `${c.namespace}/${c.name}`);

function known(candidates: readonly WaveCandidate[]): string {
  return `the manifests hold ${candidates.map(describe).join(', ') || 'none'}`;
}

/** `pattern` (a name or glob, of `name` or `namespace/name`) names this StatefulSet. */
function nameMatches(pattern: string, c: WaveCandidate): boolean {
  const subject = pattern.includes('/') ? `${c.namespace}/${c.name}` : c.name;
  return globRegExp(pattern).test(subject);
}

function globRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((ch) => (ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** The fleet: each cluster wave in turn, and within it each StatefulSet wave in turn. */
export function fleetOf(
  stsWaves: readonly (readonly WaveCandidate[])[],
  stsNames: readonly (string | undefined)[],
  clusterWaves: readonly ClusterWave[],
): Fleet {
  const waves: FleetWave[] = [];
  const several = clusterWaves.length > 1 || clusterWaves.some((c) => c.contexts.length > 1);
  for (const clusterWave of clusterWaves) {
    for (const [s, sts] of stsWaves.entries()) {
      const members: FleetMember[] = clusterWave.contexts.flatMap((context) =>
        sts.map((m) => ({ context, namespace: m.namespace, name: m.name })),
      );
      const stsName = stsNames[s] ?? (stsWaves.length > 1 ? `wave ${s + 1}` : undefined);
      const clusterName = clusterWave.name ?? clusterWave.contexts.join(', ');
      const name = several ? [clusterName, stsName].filter((n) => n !== undefined).join(': ') : stsName;
      waves.push({ index: waves.length, name: name ?? `wave ${waves.length + 1}`, members });
    }
  }
  return { waves };
}

/**
 * What the runner does after a member of wave `failedWave` failed. Members of that wave still
 * waiting for a slot never start, whatever the policy: a failure stops what has not begun.
 */
export interface FailurePlan {
  /** Stop the members of the failed wave still rolling out (before their next partition write). */
  readonly stopInFlight: boolean;
  /** Roll back, in this order, these members that moved to a new revision: [wave, member]. */
  readonly rollBack: readonly (readonly [number, number])[];
}

/**
 * Decides what a failure in wave `failedWave` does to the others. `moved[w]` lists, for each
 * wave up to the failed one, the members (by index) that this run moved to a new revision and
 * that ended succeeded or stopped; the failed members themselves are left to `on-failure`.
 */
export function afterFailure(
  policy: OnFailureOthers,
  failedWave: number,
  moved: readonly (readonly number[])[],
): FailurePlan {
  const ofWave = (w: number) => [...(moved[w] ?? [])].reverse().map((m) => [w, m] as const);
  switch (policy) {
    case 'keep':
      return { stopInFlight: false, rollBack: [] };
    case 'rollback-wave':
      return { stopInFlight: true, rollBack: ofWave(failedWave) };
    case 'rollback': {
      const earlier = Array.from({ length: failedWave }, (_, i) => failedWave - 1 - i).flatMap(ofWave);
      return { stopInFlight: true, rollBack: [...ofWave(failedWave), ...earlier] };
    }
  }
}
