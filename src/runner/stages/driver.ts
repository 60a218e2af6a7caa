// Drives a StatefulSet through the stages of a plan: observe (watch) -> decide -> act -> wait.
// Reacts to watch events, and to timers only for soak ends and stage timeouts.

import type { AnalysisCheck } from '../../engine/analysis.ts';
import {
  beginStage,
  type Decision,
  decide,
  type StagedSpec,
  type StageFailure,
  type StageProgress,
} from '../../engine/decide.ts';
import { FATAL_CAUSES, type FatalCause } from '../../engine/diagnosis.ts';
import { podStateLine } from '../../engine/health.ts';
import type { Observation } from '../../engine/observation.ts';
import { ordinalsOfStage } from '../../engine/plan.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import type { HttpClient } from '../../ports/http.ts';
import type { Log } from '../../ports/log.ts';
import { portsOf, StageAnalysis } from './analysis.ts';
import type { StageHooks } from './hooks.ts';
import { StuckPods } from './stuck.ts';

/** Analysis checks to run in each stage, once its pods are Ready on the target revision. */
export interface StageAnalysisSpec {
  readonly checks: readonly AnalysisCheck[];
  readonly soakMs: number;
}

export type StagesOutcome =
  | { readonly kind: 'complete'; readonly observation: Observation }
  | { readonly kind: 'failed'; readonly failure: StageFailure; readonly observation: Observation }
  | { readonly kind: 'cancelled'; readonly stage: number }
  /** Stopped after `stage` passed, as asked (pause-after). */
  | { readonly kind: 'paused'; readonly stage: number; readonly observation: Observation };

export interface StageDeps {
  readonly cluster: Cluster;
  readonly clock: Clock;
  readonly log: Log;
  /** For analysis checks that reach a URL or Prometheus. */
  readonly http?: HttpClient;
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
  analysis?: StageAnalysisSpec,
): Promise<StagesOutcome> {
  const driver = new StageDriver(deps, { ref, spec, hooks, signal, analysis });
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

interface Drive {
  readonly ref: StatefulSetRef;
  readonly spec: StagedSpec;
  readonly hooks: StageHooks;
  readonly signal: AbortSignal;
  readonly analysis: StageAnalysisSpec | undefined;
}

/** One drive through the stages: the latest observation, and what to do about it. */
class StageDriver {
  private readonly waker = new Waker();
  private latest: Observation | undefined;
  private watchError: unknown;
  private readonly logged = new Map<string, string>();
  private soakingStage = -1;
  private readonly deps: StageDeps;
  private readonly drive: Drive;
  private readonly stuck: StuckPods;
  private stuckShown = false;
  /** The analysis of the stage in progress, once its pods are Ready. */
  private analysis: { readonly stage: number; readonly run: StageAnalysis } | undefined;
  /** Ordinals the stage in progress moves to the new revision. */
  private stageOrdinals: readonly number[] = [];

  constructor(deps: StageDeps, drive: Drive) {
    this.deps = deps;
    this.drive = drive;
    this.stuck = new StuckPods(deps, drive.ref, drive.spec.diagnoseAfterMs ?? 10_000);
  }

  watch(stop: AbortSignal): Promise<void> {
    const onChange = (observation: Observation) => {
      this.latest = observation;
      this.waker.notify();
    };
    return this.deps.cluster.watch(this.drive.ref, onChange, stop).catch((error: unknown) => {
      this.watchError = error;
      this.waker.notify();
    });
  }

  async run(firstStage: number): Promise<StagesOutcome> {
    const { clock } = this.deps;
    const { signal } = this.drive;
    while (this.latest === undefined && this.watchError === undefined && !signal.aborted) {
      await this.waker.until(clock.now() + 60_000, clock, signal);
    }
    if (this.watchError !== undefined) throw this.watchError;
    if (signal.aborted || this.latest === undefined) return { kind: 'cancelled', stage: firstStage + 1 };
    let state = await this.startStage(firstStage, this.latest, true);
    for (;;) {
      if (this.watchError !== undefined) throw this.watchError;
      if (signal.aborted) return { kind: 'cancelled', stage: state.stage + 1 };
      const observation: Observation = this.latest;
      logPodChanges(this.deps.log, observation, this.drive.spec, this.logged);
      const decision = decide(this.drive.spec, state, observation, clock.now());
      const acted = await this.act(decision, observation);
      if ('kind' in acted) return acted;
      state = acted.state;
    }
  }

  /** Does what `decision` says; returns the outcome when the drive ends, else the next state. */
  private async act(
    decision: Decision,
    observation: Observation,
  ): Promise<StagesOutcome | { state: StageProgress }> {
    const { clock, log, cluster } = this.deps;
    const { spec, hooks, signal, ref } = this.drive;
    const state = decision.state;
    switch (decision.kind) {
      case 'wait': {
        if (decision.soaking && this.soakingStage !== state.stage) {
          this.soakingStage = state.stage;
          hooks.onSoaking?.(state.stage + 1, clock.now());
        }
        if (decision.soaking) {
          const failed = this.analysisGate(state.stage, observation);
          if (failed) {
            log.endGroup();
            return { kind: 'failed', failure: failed, observation };
          }
        }
        const fatal = await this.diagnoseWait(state, observation);
        if (fatal) return { kind: 'failed', failure: fatal, observation };
        const wakeAt = Math.min(decision.wakeAt, this.stuck.nextCheckAt(spec, state, observation));
        await this.waker.until(wakeAt, clock, signal);
        return { state };
      }
      case 'advance': {
        const held = await this.holdForAnalysis(state, observation);
        if (held) return held;
        const passedAt = clock.now();
        if (hooks.shouldPause?.(state.stage + 1)) {
          hooks.onStagePassed(state.stage + 1, passedAt, observation);
          log.endGroup();
          return { kind: 'paused', stage: state.stage + 1, observation };
        }
        if (signal.aborted) return { kind: 'cancelled', stage: decision.stage + 1 };
        // The partition write comes first: reporting must add no wait between stages.
        const next = await this.startStage(decision.stage, observation, false, () => {
          hooks.onStagePassed(state.stage + 1, passedAt, observation);
          log.endGroup();
        });
        return { state: next };
      }
      case 'unstick':
        for (const pod of decision.pods) {
          log.info(
            `Deleting ${pod.name}: not Ready on a revision other than ${spec.targetRevision}; the controller will recreate it`,
          );
          await cluster.deletePod(ref, pod.name, pod.uid);
        }
        hooks.onPodsDeleted?.(decision.pods.map((p) => p.name));
        return { state };
      case 'fail': {
        const failure = await this.explainFailure(decision.failure, state, observation);
        log.endGroup();
        return { kind: 'failed', failure, observation };
      }
      case 'complete': {
        const held = await this.holdForAnalysis(state, observation);
        if (held) return held;
        hooks.onStagePassed(state.stage + 1, clock.now(), observation);
        log.endGroup();
        return { kind: 'complete', observation };
      }
      default:
        return assertNever(decision);
    }
  }

  /**
   * Starts the stage's analysis once its pods are Ready on the target revision; a failure once a
   * check that gates has failed.
   */
  private analysisGate(stage: number, observation: Observation): StageFailure | undefined {
    const spec = this.drive.analysis;
    if (!spec || spec.checks.length === 0) return undefined;
    if (this.analysis?.stage !== stage) {
      const { ref } = this.drive;
      const sts = observation.statefulSet;
      const run = new StageAnalysis(
        { ...this.deps, http: this.deps.http ?? noHttp },
        spec.checks,
        {
          ref,
          revision: this.drive.spec.targetRevision,
          stage: stage + 1,
          pods: this.stageOrdinals.map((ordinal) => ({ name: `${ref.name}-${ordinal}`, ordinal })),
          soakMs: spec.soakMs,
          ports: portsOf(sts.template),
        },
        (reports) => {
          this.drive.hooks.onAnalysis?.(stage + 1, reports, this.deps.clock.now());
          this.waker.notify();
        },
      );
      this.analysis = { stage, run };
      if (!run.empty) run.start(this.drive.signal);
    }
    const failure = this.analysis.run.failure();
    if (!failure) return undefined;
    const lines = failure.failed.map((m) => `${m.subject}: ${m.value}`);
    const subject = failure.failed.at(-1)?.subject ?? '';
    return {
      stage: stage + 1,
      // A measurement of one of the stage's pods names it; a query over several names none.
      pod: this.stageOrdinals.some((o) => `${this.drive.ref.name}-${o}` === subject) ? subject : '',
      container: undefined,
      reason: 'AnalysisFailed',
      message: `analysis check ${failure.check} failed: ${failure.reason}${lines.length ? ` (${lines.join('; ')})` : ''}`,
      terminationMessage: undefined,
    };
  }

  /**
   * The pod gate passed: the stage passes only once its analysis has. Returns what to do when
   * it has not: wait for the next round, or fail.
   */
  private async holdForAnalysis(
    state: StageProgress,
    observation: Observation,
  ): Promise<StagesOutcome | { state: StageProgress } | undefined> {
    const failed = this.analysisGate(state.stage, observation);
    if (failed) {
      await this.endAnalysis();
      this.deps.log.endGroup();
      return { kind: 'failed', failure: failed, observation };
    }
    const run = this.analysis?.run;
    if (run === undefined || run.verdict === 'passed' || run.empty) {
      await this.endAnalysis();
      return undefined;
    }
    // Woken by the next round (or a pod change), whichever comes first.
    await this.waker.until(this.deps.clock.now() + 60_000, this.deps.clock, this.drive.signal);
    return { state };
  }

  /** Stops the stage's analysis (dry-run checks still measuring, or a cancel). */
  async endAnalysis(): Promise<void> {
    await this.analysis?.run.end();
  }

  /** Reads why pods are stuck past the grace period; a failure when waiting cannot help. */
  private async diagnoseWait(
    state: StageProgress,
    observation: Observation,
  ): Promise<StageFailure | undefined> {
    const { clock, log } = this.deps;
    const report = await this.stuck.check(this.drive.spec, state, observation);
    if (report === undefined) {
      if (this.stuckShown) this.drive.hooks.onStuck?.(state.stage + 1, [], clock.now());
      this.stuckShown = false;
      return undefined;
    }
    this.stuckShown = true;
    this.drive.hooks.onStuck?.(state.stage + 1, report.lines, clock.now());
    const fatal = report.fatal;
    if (!fatal?.fatal) return undefined;
    log.endGroup();
    const reason = fatal.fatal as FatalCause;
    return {
      stage: state.stage + 1,
      pod: fatal.pod,
      container: undefined,
      reason,
      message: `waiting cannot help: ${FATAL_CAUSES[reason] ?? fatal.cause}`,
      terminationMessage: undefined,
      diagnosis: report.lines,
    };
  }

  /** A failed stage with why its pods were stuck, when it is about pods. */
  private async explainFailure(
    failure: StageFailure,
    state: StageProgress,
    observation: Observation,
  ): Promise<StageFailure> {
    const { spec } = this.drive;
    const partition = spec.partitions[state.stage] ?? 0;
    const unready = observation.pods
      .filter((p) => (spec.gateAll || p.index >= partition) && (!p.ready || p.name === failure.pod))
      .map((p) => p.name);
    const pods = failure.pod && !unready.includes(failure.pod) ? [failure.pod, ...unready] : unready;
    if (pods.length === 0 || (failure.pod === '' && failure.reason !== 'StageTimeout')) return failure;
    const { lines, crashLogs } = await this.stuck.explain(pods, observation, failure);
    return {
      ...failure,
      ...(lines.length ? { diagnosis: lines } : {}),
      ...(crashLogs?.length ? { crashLogs } : {}),
    };
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
    const above = stage === 0 ? observation.statefulSet.replicas : (spec.partitions[stage - 1] ?? partition);
    const ordinals = ordinalsOfStage(
      Math.max(above, partition),
      partition,
      observation.statefulSet.ordinalsStart,
    );
    this.stageOrdinals = ordinals;
    log.startGroup(
      `Stage ${stage + 1}/${spec.partitions.length}: partition ${partition}` +
        (ordinals.length ? ` (updates ordinal ${ordinals.join(', ')})` : ''),
    );
    hooks.onStageStart(stage + 1, partition, now);
    return beginStage(stage, observation, now, generation);
  }
}

function logPodChanges(
  log: Log,
  observation: Observation,
  spec: StagedSpec,
  logged: Map<string, string>,
): void {
  for (const pod of observation.pods) {
    const line = podStateLine(pod, spec.targetRevision, spec.words);
    if (logged.get(pod.name) !== line) {
      logged.set(pod.name, line);
      log.info(line);
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected decision ${JSON.stringify(value)}`);
}

/** Without an HTTP client (a runner test that has no checks), URL and Prometheus checks cannot run. */
const noHttp: HttpClient = {
  request: () => Promise.reject(new Error('no HTTP client was wired into this run')),
};
