// Builds the GitHub reporting of one action run: finds the pull request (for a manual
// rollback, the one recorded on the StatefulSet) before the rollout starts, so the runner can
// record it, and hands back the reporter and its flush.

import type { Settings } from '../../config/settings.ts';
import { decodeState } from '../../engine/state.ts';
import type { Cluster } from '../../ports/cluster.ts';
import type { Log } from '../../ports/log.ts';
import type { Reporter } from '../../ports/reporter.ts';
import type { GitHubRunContext } from './context.ts';
import { createGitHubReporter, type GitHubReporterOptions } from './reporter.ts';

export interface GitHubReportingOptions {
  readonly settings: Settings;
  readonly run: GitHubRunContext;
  readonly log: Log;
  /** Only `observe` is used: to read the pull request a rollback's StatefulSet recorded. */
  readonly cluster: Pick<Cluster, 'observe'>;
  readonly defaultNamespace: string;
  /** Passed through to createGitHubReporter (tests shorten retries). */
  readonly retry?: GitHubReporterOptions['retry'];
}

export interface GitHubReporting {
  readonly reporter: Reporter;
  /** The pull request reported on, to record on the StatefulSet; undefined: none. */
  readonly pullRequest: number | undefined;
  /** Waits for the last reports to be published. Never throws. */
  flush(): Promise<void>;
  /** The run was cancelled: the last reports go out within the runner's budget. */
  hurry(): void;
}

/** The pull request recorded by the rollout a `rollback` command undoes; never throws. */
async function recordedPullRequest(options: GitHubReportingOptions): Promise<number | undefined> {
  const { settings, cluster, log } = options;
  if (settings.command !== 'rollback' || settings.statefulset === undefined) return undefined;
  const ref = { namespace: settings.namespace ?? options.defaultNamespace, name: settings.statefulset };
  try {
    const observation = await cluster.observe(ref);
    return observation === undefined
      ? undefined
      : decodeState(observation.statefulSet.annotations)?.pullRequest;
  } catch (error) {
    // The rollback itself will report why the StatefulSet cannot be read.
    log.debug(
      `Could not read the recorded pull request of ${ref.namespace}/${ref.name}: ${(error as Error).message}`,
    );
    return undefined;
  }
}

export async function githubReporting(options: GitHubReportingOptions): Promise<GitHubReporting> {
  const reporter = createGitHubReporter({
    settings: options.settings.github,
    run: options.run,
    log: options.log,
    recordedPullRequest: await recordedPullRequest(options),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  });
  const pullRequest = await reporter.pullRequest();
  return { reporter, pullRequest, flush: () => reporter.flush(), hurry: () => reporter.hurry() };
}
