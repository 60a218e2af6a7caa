// Builds the GitHub reporting of one action run: finds the pull requests (for a manual
// rollback, the one recorded on the StatefulSet; for a push, those merged since the commit each
// StatefulSet recorded) before the rollout starts, so the runner can record one, and hands back
// the reporter, its flush, and its hurry for a cancel.

import type { Settings } from '../../config/settings.ts';
import type { PlanReport } from '../../engine/plan-report.ts';
import { decodeState, type RecordedState } from '../../engine/state.ts';
import { loadManifests } from '../../manifests/load.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import type { Log } from '../../ports/log.ts';
import type { Reporter } from '../../ports/reporter.ts';
import type { GitHubRunContext } from './context.ts';
import { environmentWarning } from './environment-warning.ts';
import { createGitHubReporter, type GitHubReporterOptions } from './reporter.ts';

export interface GitHubReportingOptions {
  readonly settings: Settings;
  readonly run: GitHubRunContext;
  readonly log: Log;
  /** Only `observe` is used: to read the state the StatefulSets recorded. */
  readonly cluster: Pick<Cluster, 'observe'>;
  readonly defaultNamespace: string;
  /** Where manifest globs are resolved (to know which StatefulSets a push rolls out); default: the process's. */
  readonly cwd?: string;
  /** Passed through to createGitHubReporter (tests shorten retries). */
  readonly retry?: GitHubReporterOptions['retry'];
  readonly pace?: GitHubReporterOptions['pace'];
}

export interface GitHubReporting {
  readonly reporter: Reporter;
  /** The pull request to record on the StatefulSet; undefined: none. */
  readonly pullRequest: number | undefined;
  /** Every pull request reported on, latest merge first. */
  readonly pullRequests: readonly number[];
  /** Waits for the last reports to be published. Never throws. */
  flush(): Promise<void>;
  /** The run was cancelled: the last reports go out within the runner's budget. */
  hurry(): void;
  /** `command: plan`: the plan comment of each StatefulSet on the pull request (never throws). */
  publishPlan(plan: PlanReport, plannedAt: number): Promise<void>;
}

/** The state `ref` recorded, or undefined (also when it cannot be read: the run will say why). */
async function recordedState(
  options: GitHubReportingOptions,
  ref: StatefulSetRef,
): Promise<RecordedState | undefined> {
  try {
    const observation = await options.cluster.observe(ref);
    return observation === undefined ? undefined : decodeState(observation.statefulSet.annotations);
  } catch (error) {
    options.log.debug(
      `Could not read the recorded state of ${ref.namespace}/${ref.name}: ${(error as Error).message}`,
    );
    return undefined;
  }
}

/** Commands on one named StatefulSet: they tell the pull request its recorded rollout came from. */
const onRecordedRollout: ReadonlySet<Settings['command']> = new Set(['rollback', 'promote', 'abort']);

/** The pull request recorded by the rollout a `rollback` undoes (or a `promote` or `abort` goes on with). */
async function recordedPullRequest(options: GitHubReportingOptions): Promise<number | undefined> {
  const { settings } = options;
  if (!onRecordedRollout.has(settings.command) || settings.statefulset === undefined) return undefined;
  const ref = { namespace: settings.namespace ?? options.defaultNamespace, name: settings.statefulset };
  return (await recordedState(options, ref))?.pullRequest;
}

/** The commits the StatefulSets of a push rollout recorded: the changes since them are this push's. */
async function recordedCommits(options: GitHubReportingOptions): Promise<string[]> {
  const { settings, run } = options;
  const needed = settings.github.token !== '' && settings.github.pullRequest === undefined;
  if (!needed || settings.command !== 'rollout' || run.eventName !== 'push') return [];
  let refs: StatefulSetRef[];
  try {
    const manifests = await loadManifests(settings.manifests, {
      namespaceOverride: settings.namespace,
      defaultNamespace: options.defaultNamespace,
      cwd: options.cwd ?? process.cwd(),
    });
    refs = manifests.statefulSets.map(({ object }) => ({
      namespace: object.metadata.namespace ?? options.defaultNamespace,
      name: object.metadata.name,
    }));
  } catch {
    return []; // The rollout itself reports what is wrong with the manifests.
  }
  const states = await Promise.all(refs.map((ref) => recordedState(options, ref)));
  return [...new Set(states.flatMap((state) => (state?.commit === undefined ? [] : [state.commit])))];
}

export async function githubReporting(options: GitHubReportingOptions): Promise<GitHubReporting> {
  const { settings, run, log } = options;
  const changesTheCluster = settings.command !== 'status' && settings.command !== 'plan';
  if (run.eventName === 'pull_request_target' && changesTheCluster)
    log.warning(
      'This is a pull_request_target run: it has the base repository’s secrets and a write token, whoever opened the pull request. ' +
        'Rolling out manifests from the pull request’s head lets anyone who can open one change your cluster; roll out on push to your default branch instead (docs/permissions.md: Security).',
    );
  const unguarded = environmentWarning(
    run.eventName,
    settings.command,
    settings.github.deploymentEnvironment,
  );
  if (unguarded !== undefined) log.warning(unguarded);
  const reporter = createGitHubReporter({
    settings: settings.github,
    run,
    log,
    recordedPullRequest: await recordedPullRequest(options),
    recordedCommits: await recordedCommits(options),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.pace === undefined ? {} : { pace: options.pace }),
  });
  const pullRequests = await reporter.pullRequests();
  return {
    reporter,
    pullRequest: pullRequests[0],
    pullRequests,
    flush: () => reporter.flush(),
    hurry: () => reporter.hurry(),
    publishPlan: (plan, plannedAt) => reporter.publishPlan(plan, plannedAt),
  };
}
