// One run of the runner: its scope (what it depends on, its settings, where it runs from, its
// cancel), and how each StatefulSet's part of it starts (its report) and ends (its result).
import type { Settings } from '../config/settings.ts';
import type { Result } from '../engine/result.ts';
import type { Clock } from '../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../ports/cluster.ts';
import type { HttpClient } from '../ports/http.ts';
import type { Log } from '../ports/log.ts';
import type { Reporter } from '../ports/reporter.ts';
import { Progress, type StageOutput } from './stages/progress.ts';

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

/**
 * What every runner function works within, passed as one value: a new thing the whole runner
 * needs is one more field here, not one more parameter everywhere.
 */
export interface RunScope {
  readonly deps: RunDeps;
  readonly settings: Settings;
  readonly run: RunContext;
  /** The run's cancel (and a lost lock): stops it before the next partition write. */
  readonly signal: AbortSignal;
}

export interface StatefulSetResult {
  readonly ref: StatefulSetRef;
  /** The kube context, when the run goes to several (input `clusters`). */
  readonly context?: string;
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

/** How one StatefulSet's run ended, for `finishRun`. */
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
export async function finishRun(deps: RunDeps, progress: Progress, end: Ending): Promise<StatefulSetResult> {
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
