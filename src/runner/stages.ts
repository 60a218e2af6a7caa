// Drives a StatefulSet through the stages of a plan: observe (watch) -> decide -> act -> wait.
// Reacts to watch events, and to timers only for soak ends and stage timeouts.
import { beginStage, type Decision, decide, type StagedSpec, type StageFailure } from '../engine/decide.ts';
import { podStateLine } from '../engine/health.ts';
import type { Observation } from '../engine/observation.ts';
import { ordinalsOfStage } from '../engine/plan.ts';
import type { Clock } from '../ports/clock.ts';
import type { Cluster, StatefulSetChange, StatefulSetRef } from '../ports/cluster.ts';
import type { Log } from '../ports/log.ts';

export interface StageHooks {
  // Hooks must not block: the partition write of the next stage follows at once.
  /** A stage begins: its partition has just been written (or was already in place). */
  onStageStart(stage: number, partition: number, at: number): void;
  /** Every pod of the stage is Ready on the target revision: only the soak is left. */
  onSoaking?(stage: number, at: number): void;
  /** A stage passed its gate. */
  onStagePassed(stage: number, at: number, observation: Observation): void;
  /** Pods deleted to unstick them. */
  onPodsDeleted?(names: readonly string[]): void;
  /** Extra fields written together with each partition (progress annotations). */
  partitionChange(stage: number, partition: number): StatefulSetChange;
}

export type StagesOutcome =
  | { readonly kind: 'complete'; readonly observation: Observation }
  | { readonly kind: 'failed'; readonly failure: StageFailure; readonly observation: Observation }
  | { readonly kind: 'cancelled'; readonly stage: number };

export interface StageDeps {
  readonly cluster: Cluster;
  readonly clock: Clock;
  readonly log: Log;
}

/** Wakes the loop on a watch event, a timer or cancellation, whichever comes first. */
class Waker {
  private wake: (() => void) | undefined;
  private pending = false;

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  async until(at: number, clock: Clock, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return;
    }
    const timer = new AbortController();
    const onAbort = () => timer.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.wake = resolve;
        }),
        clock.sleep(Math.max(0, at - clock.now()), timer.signal),
      ]);
    } finally {
      this.wake = undefined;
      this.pending = false;
      timer.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * Runs stages `firstStage`.. of `spec`. The partition of `firstStage` is written first
 * unless the StatefulSet already has it. Stops before any partition write once `signal` aborts.
 */
export async function driveStages(
  deps: StageDeps,
  ref: StatefulSetRef,
  spec: StagedSpec,
  firstStage: number,
  hooks: StageHooks,
  signal: AbortSignal,
): Promise<StagesOutcome> {
  const { cluster, clock, log } = deps;
  const waker = new Waker();
  const stopWatch = new AbortController();
  let latest: Observation | undefined;
  let watchError: unknown;
  const watching = cluster
    .watch(
      ref,
      (observation) => {
        latest = observation;
        waker.notify();
      },
      stopWatch.signal,
    )
    .catch((error: unknown) => {
      watchError = error;
      waker.notify();
    });
  const logged = new Map<string, string>();
  let soakingStage = -1;
  try {
    while (latest === undefined && watchError === undefined && !signal.aborted) {
      await waker.until(clock.now() + 60_000, clock, signal);
    }
    if (watchError !== undefined) throw watchError;
    if (signal.aborted || latest === undefined) return { kind: 'cancelled', stage: firstStage + 1 };
    let state = await startStage(deps, ref, spec, firstStage, hooks, latest, true);
    for (;;) {
      if (watchError !== undefined) throw watchError;
      if (signal.aborted) return { kind: 'cancelled', stage: state.stage + 1 };
      const observation: Observation = latest;
      logPodChanges(log, observation, spec.targetRevision, logged);
      const decision: Decision = decide(spec, state, observation, clock.now());
      state = decision.state;
      switch (decision.kind) {
        case 'wait':
          if (decision.soaking && soakingStage !== state.stage) {
            soakingStage = state.stage;
            hooks.onSoaking?.(state.stage + 1, clock.now());
          }
          await waker.until(decision.wakeAt, clock, signal);
          break;
        case 'advance': {
          const passedAt = clock.now();
          if (signal.aborted) return { kind: 'cancelled', stage: decision.stage + 1 };
          // The partition write comes first: reporting must add no wait between stages.
          const next = await startStage(deps, ref, spec, decision.stage, hooks, observation, false, () => {
            hooks.onStagePassed(state.stage + 1, passedAt, observation);
            log.endGroup();
          });
          state = next;
          break;
        }
        case 'unstick':
          for (const pod of decision.pods) {
            log.info(
              `Deleting ${pod.name}: not Ready on a revision other than ${spec.targetRevision}; the controller will recreate it`,
            );
            await cluster.deletePod(ref, pod.name, pod.uid);
          }
          hooks.onPodsDeleted?.(decision.pods.map((p) => p.name));
          break;
        case 'fail':
          log.endGroup();
          return { kind: 'failed', failure: decision.failure, observation };
        case 'complete':
          hooks.onStagePassed(state.stage + 1, clock.now(), observation);
          log.endGroup();
          return { kind: 'complete', observation };
        default:
          return assertNever(decision);
      }
    }
  } finally {
    stopWatch.abort();
    await watching;
  }
}

async function startStage(
  deps: StageDeps,
  ref: StatefulSetRef,
  spec: StagedSpec,
  stage: number,
  hooks: StageHooks,
  observation: Observation,
  first: boolean,
  afterWrite: () => void = () => undefined,
) {
  const partition = spec.partitions[stage];
  if (partition === undefined) throw new RangeError(`stage ${stage} is outside the plan`);
  // The generation our partition write produced: a later one with another partition is someone else's.
  let generation = observation.statefulSet.generation;
  if (!first || observation.statefulSet.partition !== partition) {
    generation = await deps.cluster.patchStatefulSet(ref, {
      ...hooks.partitionChange(stage + 1, partition),
      partition,
    });
  }
  const now = deps.clock.now();
  afterWrite();
  const above = stage === 0 ? observation.statefulSet.replicas : (spec.partitions[stage - 1] ?? partition);
  const ordinals = ordinalsOfStage(Math.max(above, partition), partition);
  deps.log.startGroup(
    `Stage ${stage + 1}/${spec.partitions.length}: partition ${partition}` +
      (ordinals.length ? ` (updates ordinal ${ordinals.join(', ')})` : ''),
  );
  hooks.onStageStart(stage + 1, partition, now);
  return beginStage(stage, observation, now, generation);
}

function logPodChanges(
  log: Log,
  observation: Observation,
  target: string,
  logged: Map<string, string>,
): void {
  for (const pod of observation.pods) {
    const line = podStateLine(pod, target);
    if (logged.get(pod.name) !== line) {
      logged.set(pod.name, line);
      log.info(line);
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected decision ${JSON.stringify(value)}`);
}
