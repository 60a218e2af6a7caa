// The composition root: the one place that wires settings, the Kubernetes adapters (cluster
// and lock), the reporters and the clock into the app. The action (src/main.ts), the CLI
// (src/cli.ts) and the test runners all build their run here, so they cannot drift apart.
import type { KubeConfig } from '@kubernetes/client-node';
import { jobSummaryReporter, writePlanSummary } from './adapters/actions/job-summary.ts';
import type { RetryPolicy } from './adapters/github/api.ts';
import type { GitHubRunContext } from './adapters/github/context.ts';
import { type GitHubReportingOptions, githubReporting } from './adapters/github/wiring.ts';
import { fetchHttp } from './adapters/http.ts';
import { createCluster, type KubernetesCluster } from './adapters/kubernetes/cluster.ts';
import { contextKubeConfig } from './adapters/kubernetes/kubeconfig.ts';
import { createLock, type LockOptions } from './adapters/kubernetes/lock.ts';
import type { RetryEvent } from './adapters/kubernetes/retry.ts';
import { fanOut, skipNoChange } from './adapters/reporters.ts';
import { systemClock } from './adapters/system-clock.ts';
import { execute, type Outcome } from './app.ts';
import { settingsSecrets } from './config/analysis/input.ts';
import type { Settings } from './config/settings.ts';
import type { PlanReport } from './engine/plan-report.ts';
import type { Clock } from './ports/clock.ts';
import type { Log } from './ports/log.ts';
import type { Reporter } from './ports/reporter.ts';
import type { Target } from './runner/fleet/targets.ts';
import type { RunContext } from './runner/run.ts';

/** Where the run comes from: a GitHub Actions job (reports to GitHub) or a terminal (reports nowhere). */
type Origin =
  | {
      readonly kind: 'github';
      readonly run: GitHubRunContext;
      /** Also write the job summary (GITHUB_STEP_SUMMARY). */
      readonly jobSummary: boolean;
      /** GitHub retry timing; tests shorten it. */
      readonly retry?: Partial<RetryPolicy>;
      /** Pacing of GitHub comment writes; tests shorten it. */
      readonly pace?: GitHubReportingOptions['pace'];
    }
  | {
      readonly kind: 'local';
      readonly runUrl?: string;
      readonly commit?: string;
      readonly pullRequest?: number;
    };

export interface CompositionOptions {
  readonly settings: Settings;
  readonly kube: {
    readonly kubeConfig: KubeConfig;
    readonly contextName: string;
    readonly defaultNamespace: string;
    /** The kubeconfig's credentials (loadKubeConfig), masked wherever a pod's log is shown. */
    readonly secrets?: readonly string[];
  };
  readonly log: Log;
  readonly origin: Origin;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Manifest globs are relative to this (default: the process's working directory). */
  readonly cwd?: string;
  /** Sees every report the runner hands out, before any filtering (tests record them). */
  readonly observer?: Reporter;
  /** Every retry the Kubernetes adapters make (tests and benchmarks count them). */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Lease tuning (tests). */
  readonly lock?: Omit<LockOptions, 'clock' | 'onRetry'>;
}

export interface ComposedApp {
  readonly cluster: KubernetesCluster;
  /** The pull request this run reports on and records on the StatefulSet. */
  readonly pullRequest: number | undefined;
  /** Runs the command, then waits for the last reports to be published. */
  run(signal: AbortSignal): Promise<Outcome>;
}

/** What the origin of a run adds: where reports and plans go, and the run's context. */
interface Reporting {
  readonly reporters: readonly Reporter[];
  readonly run: RunContext;
  flush(): Promise<void>;
  hurry(): void;
  readonly publishPlan: ((plan: PlanReport) => Promise<void>) | undefined;
}

export async function composeApp(given: CompositionOptions): Promise<ComposedApp> {
  // With `clusters`, the first context listed is the run's own: the plan, the reports' context.
  const options = { ...given, kube: firstContext(given) };
  const { settings, kube, log } = options;
  const clock = options.clock ?? systemClock;
  const onRetry = options.onRetry ? { onRetry: options.onRetry } : {};
  const cluster = createCluster({
    kubeConfig: kube.kubeConfig,
    fieldManager: settings.fieldManager,
    defaultNamespace: kube.defaultNamespace,
    clock,
    secrets: runSecrets(options),
    ...onRetry,
  });
  const lock = createLock(kube.kubeConfig, { ...options.lock, clock, ...onRetry });
  const fleet = clusterTargets(options, clock, { contextName: kube.contextName, cluster, lock });
  const reporting = await reportingFor(options, cluster, clock);
  const reporter = fanOut([...(options.observer ? [options.observer] : []), ...reporting.reporters]);
  const { run, publishPlan } = reporting;
  return {
    cluster,
    pullRequest: run.pullRequest,
    async run(signal) {
      // A cancel (SIGINT/SIGTERM) leaves the runner seconds: the last reports must fit in them.
      if (signal.aborted) reporting.hurry();
      else signal.addEventListener('abort', () => reporting.hurry(), { once: true });
      const deps = {
        cluster,
        lock,
        clock,
        log,
        reporter,
        http: fetchHttp,
        // With several contexts, manifests without a namespace go to the first context's.
        defaultNamespace: kube.defaultNamespace,
        ...(fleet === undefined ? {} : { targets: fleet }),
        cwd: options.cwd ?? process.cwd(),
        ...(publishPlan === undefined ? {} : { publishPlan }),
      };
      const outcome = await execute(settings, deps, run, signal);
      await reporting.flush();
      return outcome;
    },
  };
}

/** The kube options narrowed to the first context of the `clusters` input; without it, as given. */
function firstContext(options: CompositionOptions): CompositionOptions['kube'] {
  const first = options.settings.clusters[0]?.contexts[0];
  if (first === undefined) return options.kube;
  return { ...options.kube, contextName: first, ...contextKubeConfig(options.kube.kubeConfig, first) };
}

/**
 * The contexts of the `clusters` input, each with a Cluster and a Lock of its own (the first:
 * the run's own); none without it. A context missing from the kubeconfig is named here.
 */
function clusterTargets(options: CompositionOptions, clock: Clock, first: Target): Target[] | undefined {
  const { settings, kube } = options;
  const contexts = settings.clusters.flatMap((w) => w.contexts);
  if (contexts.length === 0) return undefined;
  const onRetry = options.onRetry ? { onRetry: options.onRetry } : {};
  const others = contexts.slice(1).map((contextName) => {
    const { kubeConfig, defaultNamespace } = contextKubeConfig(kube.kubeConfig, contextName);
    return {
      contextName,
      cluster: createCluster({
        kubeConfig,
        fieldManager: settings.fieldManager,
        defaultNamespace,
        clock,
        secrets: runSecrets(options),
        ...onRetry,
      }),
      lock: createLock(kubeConfig, { ...options.lock, clock, ...onRetry }),
    };
  });
  return [first, ...others];
}

/**
 * Every secret this run holds, the ones main.ts registers with the runner's masking: a pod's log
 * (the crash log of a failed stage) has them masked before it reaches the log, comment or summary.
 */
function runSecrets(options: CompositionOptions): string[] {
  const { settings, kube } = options;
  return [...settingsSecrets(settings), ...(kube.secrets ?? [])].filter((s) => s !== '');
}

/** GitHub reporting for a GitHub Actions job; none for a terminal. */
async function reportingFor(
  options: CompositionOptions,
  cluster: KubernetesCluster,
  clock: Clock,
): Promise<Reporting> {
  const { settings, kube, log, origin } = options;
  if (origin.kind !== 'github') {
    const { runUrl, commit, pullRequest } = origin;
    return {
      reporters: [],
      run: { contextName: kube.contextName, runUrl, commit, pullRequest },
      flush: () => Promise.resolve(),
      hurry: () => undefined,
      publishPlan: undefined,
    };
  }
  for (const problem of origin.run.problems) log.warning(problem);
  const github = await githubReporting({
    settings,
    run: origin.run,
    log,
    cluster,
    defaultNamespace: kube.defaultNamespace,
    cwd: options.cwd ?? process.cwd(),
    ...(origin.retry ? { retry: origin.retry } : {}),
    ...(origin.pace ? { pace: origin.pace } : {}),
  });
  const { jobSummary, run } = origin;
  return {
    // A rerun that changes nothing must not overwrite the pull request's record of the change.
    reporters: [...(jobSummary ? [jobSummaryReporter()] : []), skipNoChange(github.reporter)],
    run: {
      contextName: kube.contextName,
      runUrl: run.runUrl,
      commit: run.sha,
      pullRequest: github.pullRequest,
    },
    flush: () => github.flush(),
    hurry: () => github.hurry(),
    // The plan: the job summary and one sticky comment per StatefulSet on the pull request.
    publishPlan: async (plan) => {
      if (jobSummary) await writePlanSummary(plan, run, clock.now());
      await github.publishPlan(plan, clock.now());
    },
  };
}
