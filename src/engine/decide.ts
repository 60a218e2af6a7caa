// The stage state machine. `decide` looks at one observation of the StatefulSet and its
// pods and returns what to do next, as data; the runner does it. Pure and synchronous.
import { generationObserved, type PodHealth, podHealth } from './health.ts';
import type { Observation, PodObservation, StatefulSetObservation } from './observation.ts';
import {
  type Decision,
  type StagedSpec,
  type StageFailure,
  type StageProgress,
  trackReadiness,
} from './stage.ts';

export {
  beginStage,
  type Decision,
  type StagedSpec,
  type StageFailure,
  type StageProgress,
} from './stage.ts';

interface Verdict {
  readonly pod: PodObservation;
  readonly health: PodHealth;
}

export function decide(
  spec: StagedSpec,
  previous: StageProgress,
  observation: Observation,
  now: number,
): Decision {
  const state = trackReadiness(previous, observation.pods, now);
  const sts = observation.statefulSet;
  const partition = spec.partitions[state.stage];
  if (partition === undefined) throw new RangeError(`stage ${state.stage} is outside the plan`);
  const stage = state.stage + 1;
  const timeoutAt = state.startedAt + spec.stageTimeoutMs;
  const at = { state, stage, now, timeoutAt };

  const foreign = foreignChange(spec, state, sts, partition);
  if (foreign) return fail(at, { reason: foreign.reason, message: foreign.message });
  if (sts.partition !== partition || !generationObserved(observation)) {
    return wait(at, { wakeAt: timeoutAt, why: `the controller to observe partition ${partition}` });
  }

  // The controller compares the partition with a pod's index (ordinal - ordinals.start).
  const inRange = observation.pods.filter((p) => spec.gateAll || p.index >= partition);
  const verdicts: Verdict[] = inRange.map((pod) => ({ pod, health: healthOf(spec, state, sts, pod, now) }));
  const failed = verdicts.find((v) => v.health.kind === 'failed');
  if (failed && failed.health.kind === 'failed') {
    const { pod, health } = failed;
    const container = pod.containers.find((c) => c.name === health.container);
    return fail(at, {
      pod,
      reason: health.reason,
      message: health.why,
      container: health.container,
      terminationMessage: container?.lastTerminationMessage,
    });
  }

  const stuck = inRange.filter((p) => isStuck(spec, sts, state, p));
  if (stuck.length > 0) {
    const pods = stuck.map((p) => ({ name: p.name, uid: p.uid }));
    return {
      kind: 'unstick',
      pods,
      state: { ...state, deleted: [...state.deleted, ...pods.map((p) => p.uid)] },
    };
  }

  const notYet = stillWaiting(spec, sts, verdicts, partition) ?? notAvailable(observation);
  if (notYet) return wait(at, { ...notYet, wakeAt: Math.min(timeoutAt, notYet.soakEndsAt ?? timeoutAt) });

  const next = spec.partitions[state.stage + 1];
  if (next !== undefined) return { kind: 'advance', state, stage: state.stage + 1, partition: next };
  if (sts.currentRevision !== sts.updateRevision && partition === 0) {
    return wait(at, { wakeAt: timeoutAt, why: 'the controller to set currentRevision to updateRevision' });
  }
  return { kind: 'complete', state };
}

/**
 * What the stage still waits for, or undefined when every pod of its range is healthy and the
 * controller counts them. `soakEndsAt` is set when only soaks are left: the earliest end.
 */
function stillWaiting(
  spec: StagedSpec,
  sts: StatefulSetObservation,
  verdicts: readonly Verdict[],
  partition: number,
):
  | { why: string; pod: PodObservation | undefined; soaking: boolean; soakEndsAt: number | undefined }
  | undefined {
  const lowest = spec.gateAll ? 0 : partition;
  const missing = sts.replicas - lowest - verdicts.length;
  const waiting = blockingFirst(
    verdicts.filter((v) => v.health.kind === 'waiting'),
    spec.targetRevision,
  );
  // updatedReplicas counts pods on updateRevision: not the target when gating every pod.
  const counted = spec.gateAll || sts.updatedReplicas >= sts.replicas - partition;
  if (waiting.length === 0 && missing <= 0 && counted) return undefined;
  const soakEnds = waiting.map((v) => (v.health.kind === 'waiting' ? v.health.soakEndsAt : undefined));
  const soaking = missing <= 0 && waiting.length > 0 && soakEnds.every((t) => t !== undefined);
  const first = waiting[0];
  const why =
    first && first.health.kind === 'waiting'
      ? `${first.pod.name}: ${first.health.why}`
      : waitingForController(sts, partition, missing);
  const soakEndsAt = soaking ? Math.min(...soakEnds.map((t) => t ?? Number.POSITIVE_INFINITY)) : undefined;
  return { why, pod: first?.pod, soaking, soakEndsAt };
}

/**
 * With minReadySeconds, a stage passes only once the controller counts its pods available, not
 * only once this run's clock says so: every Ready pod must be in `status.availableReplicas`
 * (Ready for minReadySeconds by the controller's reckoning). The controller updates the count
 * itself minReadySeconds after a pod turns Ready, so this waits for a status update, never for
 * a timer. Without minReadySeconds available is Ready, and nothing is added.
 *
 *   minReadySeconds 10, 5 pods Ready, availableReplicas 4 -> wait (the canary is not counted yet)
 *   minReadySeconds 10, 5 pods Ready, availableReplicas 5 -> pass
 *   minReadySeconds 0,  5 pods Ready, availableReplicas 4 -> pass (not checked)
 */
function notAvailable(
  observation: Observation,
): { why: string; pod: undefined; soaking: false; soakEndsAt: undefined } | undefined {
  const sts = observation.statefulSet;
  if (sts.minReadySeconds <= 0) return undefined;
  const ready = observation.pods.filter((p) => p.ready && !p.deleting).length;
  if (sts.availableReplicas >= ready) return undefined;
  return {
    why:
      `availableReplicas ${sts.availableReplicas} to reach the ${ready} Ready pod(s): the controller counts a pod ` +
      `available once it has been Ready for minReadySeconds (${sts.minReadySeconds} s)`,
    pod: undefined,
    soaking: false,
    soakEndsAt: undefined,
  };
}

/** A template or partition that someone else wrote since this run wrote the stage's partition. */
function foreignChange(
  spec: StagedSpec,
  state: StageProgress,
  sts: StatefulSetObservation,
  partition: number,
): { reason: string; message: string } | undefined {
  // Replacing pods under a parked partition targets currentRevision; updateRevision is the bad one.
  const revisionMoved = !spec.gateAll && sts.updateRevision !== spec.targetRevision;
  if (sts.observedGeneration >= sts.generation && revisionMoved) {
    return {
      reason: 'RevisionChanged',
      message:
        `updateRevision changed to ${sts.updateRevision} while rolling out ${spec.targetRevision}: someone else ` +
        "changed the StatefulSet's template during the rollout. Stop the other change (or let it finish) and run again.",
    };
  }
  if (sts.replicas !== spec.replicas) {
    return {
      reason: 'ReplicasChanged',
      message:
        `replicas changed from ${spec.replicas} to ${sts.replicas} during stage ${state.stage + 1} (an autoscaler ` +
        'or a manual scale): the stages were planned for the old count.',
    };
  }
  if (state.generation > 0 && sts.generation >= state.generation && sts.partition !== partition) {
    const who = sts.partitionManager ? ` by ${sts.partitionManager}` : '';
    return {
      reason: 'PartitionChanged',
      message:
        `spec.updateStrategy.rollingUpdate.partition was changed from ${partition} to ${sts.partition}${who} while ` +
        `stage ${state.stage + 1} held it at ${partition}. Leave the partition to the rollout; to go on, run it again.`,
    };
  }
  return undefined;
}

function isStuck(
  spec: StagedSpec,
  sts: StatefulSetObservation,
  state: StageProgress,
  pod: PodObservation,
): boolean {
  if (pod.deleting || state.deleted.includes(pod.uid) || pod.revision === spec.targetRevision) return false;
  if (spec.unstick === 'replace') return true;
  if (pod.ready) return false;
  switch (spec.unstick) {
    case 'none':
      return false;
    case 'stale':
      return pod.revision !== sts.currentRevision;
    case 'any':
      return true;
  }
}

/**
 * Waiting pods, the one that holds the stage up first: a pod already on the target revision
 * (the controller updated it and it is not healthy yet), then the highest ordinal (the
 * controller updates from the top down, so the others wait for it).
 */
function blockingFirst(waiting: readonly Verdict[], target: string): Verdict[] {
  const rank = (v: Verdict) => (v.pod.revision === target ? 0 : 1);
  return [...waiting].sort((a, b) => rank(a) - rank(b) || b.pod.index - a.pod.index);
}

function healthOf(
  spec: StagedSpec,
  state: StageProgress,
  sts: StatefulSetObservation,
  pod: PodObservation,
  now: number,
): PodHealth {
  const seen = state.readySeen[pod.name];
  const baseline = state.restartBaseline[pod.name];
  return podHealth(pod, {
    targetRevision: spec.targetRevision,
    gate: spec.gate,
    minReadySeconds: sts.minReadySeconds,
    readySince: seen?.uid === pod.uid ? seen.value : undefined,
    restartBaseline: baseline?.uid === pod.uid ? baseline.value : 0,
    now,
  });
}

function waitingForController(sts: StatefulSetObservation, partition: number, missing: number): string {
  if (missing > 0) return `${missing} pod(s) with ordinal >= ${sts.ordinalsStart + partition} to be created`;
  return `updatedReplicas ${sts.updatedReplicas} to reach ${sts.replicas - partition}`;
}

interface At {
  readonly state: StageProgress;
  readonly stage: number;
  readonly now: number;
  readonly timeoutAt: number;
}

function wait(
  at: At,
  what: { wakeAt: number; why: string; pod?: PodObservation | undefined; soaking?: boolean },
): Decision {
  if (at.now >= at.timeoutAt) {
    const message = `stage ${at.stage} did not become healthy in time: still waiting for ${what.why}`;
    return fail(at, { pod: what.pod, reason: 'StageTimeout', message });
  }
  return {
    kind: 'wait',
    state: at.state,
    wakeAt: what.wakeAt,
    waitingFor: what.why,
    soaking: what.soaking ?? false,
  };
}

function fail(
  at: At,
  what: {
    pod?: PodObservation | undefined;
    reason: string;
    message: string;
    container?: string | undefined;
    terminationMessage?: string | undefined;
  },
): Decision {
  const failure: StageFailure = {
    stage: at.stage,
    pod: what.pod?.name ?? '',
    container: what.container,
    reason: what.reason,
    message: what.message,
    terminationMessage: what.terminationMessage,
  };
  return { kind: 'fail', state: at.state, failure };
}
