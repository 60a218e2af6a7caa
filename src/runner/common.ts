// What rollout, rollback and recovery share: dependencies, results, stage hooks.
import type { StageFailure } from '../engine/decide.ts';
import { generationObserved } from '../engine/health.ts';
import type { Observation } from '../engine/observation.ts';
import type { Result } from '../engine/result.ts';
import { encodeProgress, type Phase } from '../engine/state.ts';
import type { Clock } from '../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../ports/cluster.ts';
import type { HttpClient } from '../ports/http.ts';
import type { Log } from '../ports/log.ts';
import type { Reporter } from '../ports/reporter.ts';
import { Progress, type StageOutput } from './progress.ts';
import type { StageHooks } from './stages.ts';

export interface RunDeps {
  readonly cluster: Cluster;
  readonly clock: Clock;
  readonly log: Log;
  /** Where reports go; each report names its StatefulSet, so each gets its own comment. */
  readonly reporter: Reporter;
  /** For analysis checks that reach a URL or Prometheus. */
  readonly http?: HttpClient;
}

export interface RunContext {
  /** Kubeconfig context name, part of the pull request comment's marker. */
  readonly contextName: string;
  readonly runUrl: string | undefined;
  readonly commit: string | undefined;
  readonly pullRequest: number | undefined;
}

export interface StatefulSetResult {
  readonly ref: StatefulSetRef;
  readonly result: Result;
  readonly revision: string | undefined;
  readonly previousRevision: string | undefined;
  readonly stages: readonly StageOutput[];
  /** Why the run did not succeed, for the step's failure message. */
  readonly message: string | undefined;
}

export function newProgress(
  deps: RunDeps,
  run: RunContext,
  ref: StatefulSetRef,
  kind: 'rollout' | 'rollback',
  replicas: number,
): Progress {
  return new Progress(deps.reporter, {
    kind,
    context: run.contextName,
    namespace: ref.namespace,
    name: ref.name,
    replicas,
    previousRevision: undefined,
    revision: undefined,
    images: [],
    runUrl: run.runUrl,
    startedAt: deps.clock.now(),
  });
}

/** Stage hooks that keep the report current and record progress on the StatefulSet. */
export function stageHooks(progress: Progress, phase: Phase): StageHooks {
  return {
    onStageStart(stage, partition, at) {
      progress.stage(stage, { state: 'progressing', startedAt: at, partition }, at);
    },
    onSoaking(stage, at) {
      progress.stage(stage, { state: 'soaking' }, at);
    },
    onStagePassed(stage, at, observation) {
      const sts = observation.statefulSet;
      progress.stage(stage, { state: 'passed', endedAt: at, updated: sts.updatedReplicas, stuck: [] }, at);
    },
    onStuck(stage, lines, at) {
      progress.stage(stage, { stuck: lines }, at);
    },
    onAnalysis(stage, checks, at) {
      progress.stage(stage, { analysis: checks }, at);
    },
    partitionChange(stage) {
      return { annotations: encodeProgress(phase, stage) };
    },
  };
}

/** Why a failed stage's pods were stuck, to end its failure message with (empty when unknown). */
export function diagnosisText(failure: StageFailure): string {
  const lines = failure.diagnosis ?? [];
  return lines.length ? `; ${lines.join('; ')}` : '';
}

/** How one StatefulSet's run ended, for `finish`. */
export interface Ending {
  readonly ref: StatefulSetRef;
  readonly result: Result;
  /** The revision the run leaves in place (or was rolling out). */
  readonly revision: string | undefined;
  /** The revision before it. */
  readonly previous: string | undefined;
  /** Why the run did not succeed. */
  readonly message?: string | undefined;
}

/** Ends the report with the run's result and waits until it is published. */
export async function finish(deps: RunDeps, progress: Progress, end: Ending): Promise<StatefulSetResult> {
  progress.verdict(end.result, deps.clock.now());
  await progress.flush();
  return {
    ref: end.ref,
    result: end.result,
    revision: end.revision,
    previousRevision: end.previous,
    stages: progress.outputs(),
    message: end.message,
  };
}

/**
 * Watches the StatefulSet until `accept` takes an observation, `timeoutMs` passes (on the Clock
 * port, so a fake clock can expire it) or `signal` aborts. Returns what it took, and the last
 * observation seen (for a message when nothing was taken).
 */
export async function watchUntil(
  deps: RunDeps,
  ref: StatefulSetRef,
  accept: (observation: Observation) => boolean,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ found: Observation | undefined; latest: Observation | undefined }> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let found: Observation | undefined;
  let latest: Observation | undefined;
  const deadline = deps.clock.sleep(timeoutMs, stop.signal).then(() => stop.abort());
  try {
    const onChange = (observation: Observation) => {
      latest = observation;
      if (!accept(observation)) return;
      found = observation;
      stop.abort();
    };
    await deps.cluster.watch(ref, onChange, stop.signal);
  } finally {
    stop.abort();
    await deadline;
    signal.removeEventListener('abort', onAbort);
  }
  return { found, latest };
}

/**
 * Waits (by watch) until the controller has observed the latest generation, and, when
 * `revision` is given, points updateRevision at it. Returns that observation.
 */
export async function waitForRevision(
  deps: RunDeps,
  ref: StatefulSetRef,
  revision: string | undefined,
  signal: AbortSignal,
  timeoutMs = 120_000,
): Promise<Observation> {
  const accept = (o: Observation) =>
    generationObserved(o) && (revision === undefined || o.statefulSet.updateRevision === revision);
  const { found } = await watchUntil(deps, ref, accept, signal, timeoutMs);
  if (found) return found;
  if (signal.aborted)
    throw new Error(`cancelled while waiting for the controller to observe ${ref.namespace}/${ref.name}`);
  const what = revision ? ` and set updateRevision to ${revision}` : '';
  throw new Error(
    `the StatefulSet controller did not observe ${ref.namespace}/${ref.name}${what} within ${timeoutMs / 1000} s: ` +
      'check that kube-controller-manager is running and healthy',
  );
}
