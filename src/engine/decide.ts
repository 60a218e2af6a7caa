// The stage state machine. `decide` looks at one observation of the StatefulSet and its
// pods and returns what to do next, as data; the runner does it. Pure and synchronous.
import { generationObserved, type HealthGate, podHealth, restartsOf } from './health.ts';
import type { Observation, PodObservation } from './observation.ts';

/** What a staged run (rollout or rollback) is driving towards. */
export interface StagedSpec {
  /** The revision every pod must end on (the StatefulSet's updateRevision). */
  readonly targetRevision: string;
  /** The partition of each stage, strictly decreasing, ending at the final partition. */
  readonly partitions: readonly number[];
  readonly gate: HealthGate;
  readonly stageTimeoutMs: number;
  /**
   * Delete pods in the stage's range that are on another revision and not Ready: the
   * controller will not replace them itself under OrderedReady (kubernetes issue 67250).
   */
  readonly unstick: boolean;
}

/** A pod's mark: its uid (a recreated pod is another pod) and a number. */
export interface PodMark {
  readonly uid: string;
  readonly value: number;
}

export interface StageState {
  /** Index into `partitions` of the stage in progress. */
  readonly stage: number;
  readonly startedAt: number;
  /** Restart counts when the stage began, by pod name. */
  readonly restartBaseline: Readonly<Record<string, PodMark>>;
  /** When this run first saw each pod Ready, continuously since, by pod name. */
  readonly readySeen: Readonly<Record<string, PodMark>>;
  /** Pods this stage has already deleted (by uid), so each is deleted once. */
  readonly deleted: readonly string[];
}

export interface StageFailure {
  readonly stage: number;
  readonly pod: string;
  readonly container: string | undefined;
  readonly reason: string;
  readonly message: string;
  readonly terminationMessage: string | undefined;
}

export type Decision =
  /** Nothing to do until the next event, or until `wakeAt` (a soak end or the stage timeout). */
  | {
      readonly kind: 'wait';
      readonly state: StageState;
      readonly wakeAt: number;
      readonly waitingFor: string;
    }
  /** The stage passed: write this partition and begin the next stage. */
  | {
      readonly kind: 'advance';
      readonly state: StageState;
      readonly stage: number;
      readonly partition: number;
    }
  /** Delete these pods (by name and uid) so the controller recreates them on the target revision. */
  | {
      readonly kind: 'unstick';
      readonly state: StageState;
      readonly pods: readonly { name: string; uid: string }[];
    }
  | { readonly kind: 'fail'; readonly state: StageState; readonly failure: StageFailure }
  /** Every stage passed and the controller reports currentRevision == updateRevision. */
  | { readonly kind: 'complete'; readonly state: StageState };

/** The state of a stage that begins now, with restart baselines taken from the observation. */
export function beginStage(stage: number, observation: Observation | undefined, now: number): StageState {
  const restartBaseline: Record<string, PodMark> = {};
  for (const pod of observation?.pods ?? [])
    restartBaseline[pod.name] = { uid: pod.uid, value: restartsOf(pod) };
  return { stage, startedAt: now, restartBaseline, readySeen: {}, deleted: [] };
}

/** Remembers when each pod was first seen Ready, so a soak is measured from the transition. */
export function trackReadiness(state: StageState, pods: readonly PodObservation[], now: number): StageState {
  const readySeen: Record<string, PodMark> = {};
  for (const pod of pods) {
    if (!pod.ready || pod.deleting) continue;
    const seen = state.readySeen[pod.name];
    if (seen && seen.uid === pod.uid) {
      readySeen[pod.name] = seen;
      continue;
    }
    // Ready before this run saw it: trust the condition, rounded up (the API keeps whole seconds).
    const since = pod.readySince === undefined ? now : Math.min(now, pod.readySince + 1000);
    readySeen[pod.name] = { uid: pod.uid, value: since };
  }
  return { ...state, readySeen };
}

export function decide(
  spec: StagedSpec,
  previous: StageState,
  observation: Observation,
  now: number,
): Decision {
  const state = trackReadiness(previous, observation.pods, now);
  const sts = observation.statefulSet;
  const partition = spec.partitions[state.stage];
  if (partition === undefined) throw new RangeError(`stage ${state.stage} is outside the plan`);
  const stage = state.stage + 1;
  const timeoutAt = state.startedAt + spec.stageTimeoutMs;

  if (generationObserved(observation) && sts.updateRevision !== spec.targetRevision) {
    return fail(
      state,
      stage,
      undefined,
      'RevisionChanged',
      templateChangedMessage(sts.updateRevision, spec.targetRevision),
    );
  }
  if (sts.partition !== partition || !generationObserved(observation)) {
    const why = `the controller to observe partition ${partition}`;
    return wait(state, timeoutAt, timeoutAt, why, now, stage, undefined);
  }

  const inRange = observation.pods.filter((p) => p.ordinal >= partition);
  const verdicts = inRange.map((pod) => ({
    pod,
    health: healthOf(spec, state, sts.minReadySeconds, pod, now),
  }));
  const failed = verdicts.find((v) => v.health.kind === 'failed');
  if (failed && failed.health.kind === 'failed') {
    const { pod, health } = failed;
    const container = pod.containers.find((c) => c.name === health.container);
    return fail(
      state,
      stage,
      pod,
      health.reason,
      health.why,
      health.container,
      container?.lastTerminationMessage,
    );
  }

  if (spec.unstick) {
    const stuck = inRange.filter(
      (p) => p.revision !== spec.targetRevision && !p.ready && !p.deleting && !state.deleted.includes(p.uid),
    );
    if (stuck.length > 0) {
      const pods = stuck.map((p) => ({ name: p.name, uid: p.uid }));
      return {
        kind: 'unstick',
        pods,
        state: { ...state, deleted: [...state.deleted, ...pods.map((p) => p.uid)] },
      };
    }
  }

  const missing = sts.replicas - partition - inRange.length;
  const waiting = verdicts.filter((v) => v.health.kind === 'waiting');
  if (waiting.length > 0 || missing > 0 || sts.updatedReplicas < sts.replicas - partition) {
    const soakEnds = waiting.map((v) => (v.health.kind === 'waiting' ? v.health.soakEndsAt : undefined));
    const onlySoak = missing <= 0 && soakEnds.every((t) => t !== undefined);
    const wakeAt = onlySoak ? Math.min(timeoutAt, ...soakEnds.map((t) => t ?? timeoutAt)) : timeoutAt;
    const first = waiting[0];
    const why =
      first && first.health.kind === 'waiting'
        ? `${first.pod.name}: ${first.health.why}`
        : waitingForController(sts, partition, missing);
    return wait(state, wakeAt, timeoutAt, why, now, stage, first?.pod);
  }

  const next = spec.partitions[state.stage + 1];
  if (next !== undefined) return { kind: 'advance', state, stage: state.stage + 1, partition: next };
  if (sts.currentRevision !== sts.updateRevision && partition === 0) {
    const why = 'the controller to set currentRevision to updateRevision';
    return wait(state, timeoutAt, timeoutAt, why, now, stage, undefined);
  }
  return { kind: 'complete', state };
}

function healthOf(
  spec: StagedSpec,
  state: StageState,
  minReadySeconds: number,
  pod: PodObservation,
  now: number,
) {
  const seen = state.readySeen[pod.name];
  const baseline = state.restartBaseline[pod.name];
  return podHealth(
    pod,
    spec.targetRevision,
    spec.gate,
    minReadySeconds,
    seen?.uid === pod.uid ? seen.value : undefined,
    baseline?.uid === pod.uid ? baseline.value : 0,
    now,
  );
}

function waitingForController(sts: Observation['statefulSet'], partition: number, missing: number): string {
  if (missing > 0) return `${missing} pod(s) with ordinal >= ${partition} to be created`;
  return `updatedReplicas ${sts.updatedReplicas} to reach ${sts.replicas - partition}`;
}

function templateChangedMessage(found: string, expected: string): string {
  return (
    `updateRevision changed to ${found} while rolling out ${expected}: someone else changed the StatefulSet's ` +
    'template during the rollout. Stop the other change (or let it finish) and run again.'
  );
}

function wait(
  state: StageState,
  wakeAt: number,
  timeoutAt: number,
  waitingFor: string,
  now: number,
  stage: number,
  pod: PodObservation | undefined,
): Decision {
  if (now >= timeoutAt) {
    const message = `stage ${stage} did not become healthy in time: still waiting for ${waitingFor}`;
    return fail(state, stage, pod, 'StageTimeout', message);
  }
  return { kind: 'wait', state, wakeAt, waitingFor };
}

function fail(
  state: StageState,
  stage: number,
  pod: PodObservation | undefined,
  reason: string,
  message: string,
  container?: string,
  terminationMessage?: string,
): Decision {
  const failure: StageFailure = {
    stage,
    pod: pod?.name ?? '',
    container,
    reason,
    message,
    terminationMessage,
  };
  return { kind: 'fail', state, failure };
}
