// The vocabulary of a stage: what a staged run drives towards, the state carried from one
// decision to the next, and the decisions themselves. Pure.

/**
 * Glossary: one word per concept, used so in every identifier of src/.
 * - step: one value of the `steps` (or `rollback-steps`) input, `1` or `50%`: how many pods are
 *   on the new revision after its stage (engine/plan.ts turns steps into partitions).
 * - stage: the unit the runner gates: one partition written, then waited on until its pods pass.
 * - gate: what a stage's pods must pass before the next partition: Ready on the target revision
 *   for the soak, restarts within max-restarts (HealthGate), and the stage's analysis checks.
 * - soak: how long a pod must have been Ready, `max(soak, minReadySeconds)`, before it passes.
 * - round: one measurement of an analysis check, every interval, from the stage's start.
 * - park: the partition set above every pod index (PARKED, for apply: false), so a GitOps sync
 *   creates a new revision and restarts no pod.
 * - freeze: the partition set to `replicas` before a template is applied, so it updates no pod.
 * - unstick: delete a pod the controller will not replace (not Ready under OrderedReady,
 *   kubernetes issue 67250) so that it is recreated on the target revision.
 */
import type { CrashLog } from './crash-log.ts';
import { type HealthGate, type RevisionWords, restartsOf } from './health.ts';
import type { Observation, PodObservation, StatefulSetObservation } from './observation.ts';
import { ordinalsOfStage } from './plan.ts';

/**
 * Which pods of a stage's range the run deletes so the controller recreates them: under
 * OrderedReady the controller will not replace a pod that is not Ready (kubernetes issue 67250).
 * - `none`: never.
 * - `stale`: not Ready and on neither currentRevision nor the target (left by a halted
 *   rollout of another revision: fixing forward must get past it).
 * - `any`: not Ready and on any revision but the target (a rollback).
 * - `replace`: every pod on another revision, Ready or not (a rollback that cannot write the
 *   template back, under a GitOps controller: the pods, below the partition, come back on
 *   currentRevision).
 */
type Unstick = 'none' | 'stale' | 'any' | 'replace';

/** What a staged run (rollout or rollback) is driving towards. */
export interface StagedSpec {
  /** The revision every pod must end on (the StatefulSet's updateRevision). */
  readonly targetRevision: string;
  /** The partition of each stage, strictly decreasing, ending at the final partition. */
  readonly partitions: readonly number[];
  readonly gate: HealthGate;
  readonly stageTimeoutMs: number;
  readonly unstick: Unstick;
  /**
   * Gate every pod, whatever the partition (a rollback by pod replacement with the partition
   * parked above every pod); otherwise the pods whose index is at or above the partition.
   */
  readonly gateAll?: boolean;
  /** What progress lines call the target and the other revisions (default new / old). */
  readonly words?: RevisionWords;
  /** The replicas the partitions were planned for: another count mid-run stops it. */
  readonly replicas: number;
  /** How long a pod of a stage may be not Ready before the run reads why (default 10 s). */
  readonly diagnoseAfterMs?: number;
}

/** A pod's mark: its uid (a recreated pod is another pod) and a number. */
interface PodMark {
  readonly uid: string;
  readonly value: number;
}

/** The state of the stage in progress, carried from one decision to the next. */
export interface StageProgress {
  /** Index into `partitions` of the stage in progress. */
  readonly stage: number;
  readonly startedAt: number;
  /**
   * The StatefulSet's generation once this run wrote the stage's partition: an observation of
   * that generation or later with another partition means someone else changed it.
   */
  readonly generation: number;
  /** Restart counts when the stage began, by pod name. */
  readonly restartBaseline: Readonly<Record<string, PodMark>>;
  /** When this run first saw each pod Ready, continuously since, by pod name. */
  readonly readySeen: Readonly<Record<string, PodMark>>;
  /** Pods this stage has already deleted (by uid), so each is deleted once. */
  readonly deleted: readonly string[];
}

export interface StageFailure {
  readonly stage: number;
  /** The pod that failed the gate; '' when the failure is not a pod's. */
  readonly pod: string;
  readonly container: string | undefined;
  readonly reason: string;
  readonly message: string;
  readonly terminationMessage: string | undefined;
  /** Why the stage's pods are stuck, one line a pod (see engine/diagnosis.ts), when read. */
  readonly diagnosis?: readonly string[];
  /** The last log lines of crashed containers (see engine/crash-log.ts; application text, untrusted). */
  readonly crashLogs?: readonly CrashLog[];
}

export type Decision =
  /** Nothing to do until the next event, or until `wakeAt` (a soak end or the stage timeout). */
  | {
      readonly kind: 'wait';
      readonly state: StageProgress;
      readonly wakeAt: number;
      readonly waitingFor: string;
      /** Every pod of the stage is Ready on the target revision: only the soak is left. */
      readonly soaking: boolean;
    }
  /** The stage passed: write this partition and begin the next stage. */
  | {
      readonly kind: 'advance';
      readonly state: StageProgress;
      readonly stage: number;
      readonly partition: number;
    }
  /** Delete these pods (by name and uid) so the controller recreates them on the target revision. */
  | {
      readonly kind: 'unstick';
      readonly state: StageProgress;
      readonly pods: readonly { name: string; uid: string }[];
    }
  | { readonly kind: 'fail'; readonly state: StageProgress; readonly failure: StageFailure }
  /** Every stage passed and the controller reports currentRevision == updateRevision. */
  | { readonly kind: 'complete'; readonly state: StageProgress };

/** The state of a stage that begins now, with restart baselines taken from the observation. */
export function beginStage(
  stage: number,
  observation: Observation | undefined,
  now: number,
  generation = 0,
): StageProgress {
  const restartBaseline: Record<string, PodMark> = {};
  for (const pod of observation?.pods ?? [])
    restartBaseline[pod.name] = { uid: pod.uid, value: restartsOf(pod) };
  return { stage, startedAt: now, generation, restartBaseline, readySeen: {}, deleted: [] };
}

/** Remembers when each pod was first seen Ready, so a soak is measured from the transition. */
export function trackReadiness(
  state: StageProgress,
  pods: readonly PodObservation[],
  now: number,
): StageProgress {
  if (sameReadiness(state.readySeen, pods)) return state;
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

/**
 * Whether `pods` are Ready exactly as `readySeen` has them (the same pods, by uid): then the
 * marks stand as they are. Most watch events change no pod's readiness, and rebuilding the marks
 * of every pod for each would make a rollout's work grow with the square of its replicas.
 */
function sameReadiness(
  readySeen: Readonly<Record<string, PodMark>>,
  pods: readonly PodObservation[],
): boolean {
  let ready = 0;
  for (const pod of pods) {
    if (!pod.ready || pod.deleting) continue;
    if (readySeen[pod.name]?.uid !== pod.uid) return false;
    ready++;
  }
  let marks = 0;
  for (const _ in readySeen) marks++;
  return marks === ready;
}

/**
 * The ordinals `stage` (0-based) of `spec` moves to the target revision: the pods from the
 * partition before it (the replicas, for the first) down to its own.
 */
export function stageOrdinals(
  spec: StagedSpec,
  stage: number,
  sts: Pick<StatefulSetObservation, 'replicas' | 'ordinalsStart'>,
): number[] {
  const partition = spec.partitions[stage] ?? 0;
  const above = stage === 0 ? sts.replicas : (spec.partitions[stage - 1] ?? partition);
  return ordinalsOfStage(Math.max(above, partition), partition, sts.ordinalsStart);
}
