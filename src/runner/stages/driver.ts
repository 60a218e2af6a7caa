// Drives a StatefulSet through the stages of a plan: observe (watch) -> decide -> act -> wait.
// Reacts to watch events, and to timers only for soak ends and stage timeouts.

import {
  beginStage,
  type Decision,
  decide,
  type StagedSpec,
  type StageProgress,
} from '../../engine/decide.ts';
import type { Observation } from '../../engine/observation.ts';
import { stageOrdinals } from '../../engine/stage.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { AnalysisGate, type StageAnalysisSpec } from './analysis.ts';
import { DriveGuards } from './drive-guards.ts';
import type { GuardSpec } from './guards.ts';
import type { StageHooks } from './hooks.ts';
import type { Drive, StageDeps, StagesOutcome } from './outcome.ts';
import { StuckPods } from './stuck.ts';
import { Watched } from './waker.ts';

export type { StageDeps, StagesOutcome } from './outcome.ts';

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
  analysis?: StageAnalysisSpec,
  guards?: GuardSpec,
): Promise<StagesOutcome> {
  const driver = new StageDriver(deps, { ref, spec, hooks, signal, analysis, guards });
  const stopWatch = new AbortController();
  const watching = driver.watch(stopWatch.signal);
  try {
    return await driver.run(firstStage);
  } finally {
    stopWatch.abort();
    await driver.endAnalysis();
    await watching;
  }
}

/** The next state of the drive, or how it ended. */
type Acted = StagesOutcome | { readonly state: StageProgress };

type DecisionOf<K extends Decision['kind']> = Extract<Decision, { kind: K }>;

/**
 * One drive through the stages: the latest observation, and what to do about it. Each decision
 * of the engine has its own method (wait, advance, unstick, fail, complete).
 */
class StageDriver {
  private readonly seen = new Watched();
  private readonly waker = this.seen.waker;
  private soakingStage = -1;
  private readonly deps: StageDeps;
  private readonly drive: Drive;
  private readonly stuck: StuckPods;
  /** The analysis of the stage in progress, once its pods are Ready. */
  private readonly analysis: AnalysisGate;
  /** Ordinals the stage in progress moves to the new revision. */
  private stageOrdinals: readonly number[] = [];
  /** Hooks, the primary's switchover and the before-checks around each stage. */
  private readonly guards: DriveGuards;

  constructor(deps: StageDeps, drive: Drive) {
    this.deps = deps;
    this.drive = drive;
    this.stuck = new StuckPods(deps, drive.ref, drive.spec.diagnoseAfterMs ?? 10_000);
    this.analysis = new AnalysisGate(deps, drive.analysis, {
      ref: drive.ref,
      revision: drive.spec.targetRevision,
      signal: drive.signal,
      onChange: (stage, reports) => {
        this.guards.reportChecks(stage, { after: reports });
        this.waker.notify();
      },
    });
    this.guards = new DriveGuards(deps, drive, this.seen);
  }

  watch(stop: AbortSignal): Promise<void> {
    return this.seen.watch(this.deps.cluster, this.drive.ref, stop);
  }

  async run(firstStage: number): Promise<StagesOutcome> {
    const { clock } = this.deps;
    const { signal } = this.drive;
    const { seen } = this;
    while (seen.latest === undefined && !seen.failed && !signal.aborted) {
      await this.waker.until(clock.now() + 60_000, clock, signal);
    }
    seen.throwIfFailed();
    if (signal.aborted || seen.latest === undefined) return { kind: 'cancelled', stage: firstStage + 1 };
    // A resumed stage whose partition is written already began: its pods may be restarting.
    if (seen.latest.statefulSet.partition !== this.drive.spec.partitions[firstStage]) {
      const guarded = await this.guards.before(firstStage, seen.latest);
      if (guarded) return guarded;
    }
    let state = await this.startStage(firstStage, seen.latest, true);
    for (;;) {
      seen.throwIfFailed();
      if (signal.aborted) return { kind: 'cancelled', stage: state.stage + 1 };
      const observation: Observation = seen.latest;
      seen.logPodChanges(this.deps.log, observation, this.drive.spec);
      const decision = decide(this.drive.spec, state, observation, clock.now());
      const acted = await this.act(decision, observation);
      if ('kind' in acted) return acted;
      state = acted.state;
    }
  }

  /** Does what `decision` says; returns the outcome when the drive ends, else the next state. */
  private act(decision: Decision, observation: Observation): Promise<Acted> {
    switch (decision.kind) {
      case 'wait':
        return this.wait(decision, observation);
      case 'advance':
        return this.advance(decision, observation);
      case 'unstick':
        return this.unstick(decision);
      case 'fail':
        return this.fail(decision, observation);
      case 'complete':
        return this.complete(decision, observation);
      default:
        return assertNever(decision);
    }
  }

  /** Nothing to do yet: gate on the analysis while soaking, read why pods are stuck, then sleep. */
  private async wait(decision: DecisionOf<'wait'>, observation: Observation): Promise<Acted> {
    const { clock, log } = this.deps;
    const { state } = decision;
    if (decision.soaking && this.soakingStage !== state.stage) {
      this.soakingStage = state.stage;
      this.drive.hooks.onSoaking?.(state.stage + 1, clock.now());
    }
    if (decision.soaking) {
      const failed = this.analysis.check(state.stage, observation, this.stageOrdinals);
      if (failed) {
        log.endGroup();
        return { kind: 'failed', failure: failed, observation };
      }
    }
    const onStuck = (stage: number, lines: readonly string[], at: number) =>
      this.drive.hooks.onStuck?.(stage, lines, at);
    const fatal = await this.stuck.whileWaiting(this.drive.spec, state, observation, onStuck);
    if (fatal) {
      log.endGroup();
      return { kind: 'failed', failure: fatal, observation };
    }
    const wakeAt = Math.min(decision.wakeAt, this.stuck.nextCheckAt(this.drive.spec, state, observation));
    await this.waker.until(wakeAt, clock, this.drive.signal);
    return { state };
  }

  /** The stage passed its pod gate: once its analysis has too, pause or write the next partition. */
  private async advance(decision: DecisionOf<'advance'>, observation: Observation): Promise<Acted> {
    const { clock, log } = this.deps;
    const { hooks, signal } = this.drive;
    const { state } = decision;
    const held = await this.holdForAnalysis(state, observation);
    if (held) return held;
    const passedAt = clock.now();
    await this.guards.after(state.stage + 1, this.drive.spec.partitions[state.stage] ?? 0);
    if (hooks.shouldPause?.(state.stage + 1)) {
      hooks.onStagePassed(state.stage + 1, passedAt, observation);
      log.endGroup();
      return { kind: 'paused', stage: state.stage + 1, observation };
    }
    if (signal.aborted) return { kind: 'cancelled', stage: decision.stage + 1 };
    const guarded = await this.guards.before(decision.stage, observation);
    if (guarded) {
      hooks.onStagePassed(state.stage + 1, passedAt, observation);
      log.endGroup();
      return guarded;
    }
    // The partition write comes first: reporting must add no wait between stages.
    const next = await this.startStage(decision.stage, observation, false, () => {
      hooks.onStagePassed(state.stage + 1, passedAt, observation);
      log.endGroup();
    });
    return { state: next };
  }

  /** Deletes the pods the controller will not replace, so it recreates them on the target revision. */
  private async unstick(decision: DecisionOf<'unstick'>): Promise<Acted> {
    const { spec, ref, hooks } = this.drive;
    for (const pod of decision.pods) {
      this.deps.log.info(
        `Deleting ${pod.name}: not Ready on a revision other than ${spec.targetRevision}; the controller will recreate it`,
      );
      await this.deps.cluster.deletePod(ref, pod.name, pod.uid);
    }
    hooks.onPodsDeleted?.(decision.pods.map((p) => p.name));
    return { state: decision.state };
  }

  /** The stage failed: say why its pods were stuck, when it is about pods. */
  private async fail(decision: DecisionOf<'fail'>, observation: Observation): Promise<Acted> {
    const failure = await this.stuck.explainFailure(
      this.drive.spec,
      decision.failure,
      decision.state,
      observation,
    );
    this.deps.log.endGroup();
    return { kind: 'failed', failure, observation };
  }

  /** Every stage passed (once the last one's analysis has) and the controller finished. */
  private async complete(decision: DecisionOf<'complete'>, observation: Observation): Promise<Acted> {
    const { state } = decision;
    const held = await this.holdForAnalysis(state, observation);
    if (held) return held;
    await this.guards.after(state.stage + 1, 0);
    this.drive.hooks.onStagePassed(state.stage + 1, this.deps.clock.now(), observation);
    this.deps.log.endGroup();
    return { kind: 'complete', observation };
  }

  /**
   * The pod gate passed: the stage passes only once its analysis has. Returns what to do when
   * it has not: wait for the next round, or fail.
   */
  private async holdForAnalysis(state: StageProgress, observation: Observation): Promise<Acted | undefined> {
    const failed = this.analysis.check(state.stage, observation, this.stageOrdinals);
    if (failed) {
      await this.endAnalysis();
      this.deps.log.endGroup();
      return { kind: 'failed', failure: failed, observation };
    }
    if (!this.analysis.holding) {
      await this.endAnalysis();
      return undefined;
    }
    // Woken by the next round (or a pod change), whichever comes first.
    await this.waker.until(this.deps.clock.now() + 60_000, this.deps.clock, this.drive.signal);
    return { state };
  }

  /** Stops the stage's analysis (dry-run checks still measuring, or a cancel). */
  async endAnalysis(): Promise<void> {
    await this.analysis.end();
  }

  private async startStage(
    stage: number,
    observation: Observation,
    first: boolean,
    afterWrite: () => void = () => undefined,
  ): Promise<StageProgress> {
    const { cluster, clock, log } = this.deps;
    const { spec, hooks, ref } = this.drive;
    const partition = spec.partitions[stage];
    if (partition === undefined) throw new RangeError(`stage ${stage} is outside the plan`);
    // The generation our partition write produced: a later one with another partition is someone else's.
    let generation = observation.statefulSet.generation;
    if (!first || observation.statefulSet.partition !== partition) {
      generation = await cluster.patchStatefulSet(ref, {
        ...hooks.partitionChange(stage + 1, partition),
        partition,
      });
    }
    const now = clock.now();
    afterWrite();
    const ordinals = stageOrdinals(spec, stage, observation.statefulSet);
    this.stageOrdinals = ordinals;
    log.startGroup(
      `Stage ${stage + 1}/${spec.partitions.length}: partition ${partition}` +
        (ordinals.length ? ` (updates ordinal ${ordinals.join(', ')})` : ''),
    );
    hooks.onStageStart(stage + 1, partition, now);
    return beginStage(stage, observation, now, generation);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected decision ${JSON.stringify(value)}`);
}
