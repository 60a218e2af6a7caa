// The GitHub Reporter: a sticky pull request comment and GitHub Deployment statuses per
// StatefulSet. Reporting never breaks a rollout: every failure becomes a warning that names
// the fix, and a channel that cannot work is switched off (session.ts). Each report goes
// through a queue per StatefulSet (publish-queue.ts) to one publisher per channel
// (comment-publisher.ts, deployment-publisher.ts). The job summary is not written here but by
// src/adapters/actions/job-summary.ts.

import type { GitHubSettings } from '../../config/settings.ts';
import type { RolloutReport } from '../../engine/report.ts';
import type { Log } from '../../ports/log.ts';
import type { Reporter } from '../../ports/reporter.ts';
import type { RetryPolicy } from './api.ts';
import { createCommentPublisher } from './comment-publisher.ts';
import type { GitHubRunContext } from './context.ts';
import { createDeploymentPublisher } from './deployment-publisher.ts';
import { createPublishQueue } from './publish-queue.ts';
import { resolvePullRequest } from './pull-request.ts';
import { createSession, type GitHubSession, type Publisher, reportKey } from './session.ts';

export interface GitHubReporterOptions {
  readonly settings: GitHubSettings;
  readonly run: GitHubRunContext;
  readonly log: Log;
  /** The pull request recorded on the StatefulSet, for workflow_dispatch rollbacks. */
  readonly recordedPullRequest?: number;
  /** Retry timing; tests shorten it. */
  readonly retry?: Partial<RetryPolicy>;
}

export interface GitHubReporter extends Reporter {
  /**
   * The pull request this run reports on (resolved once, on first use; undefined: none, with a
   * notice). Record it on the StatefulSet so a later rollback can tell the same pull request.
   */
  pullRequest(): Promise<number | undefined>;
  /**
   * Resolves once the newest report of every StatefulSet is published (or given up on). Call
   * it before the step ends. Never throws.
   */
  flush(): Promise<void>;
  /** The run was cancelled: the last reports go out within the runner's budget (session.ts). */
  hurry(): void;
}

export function createGitHubReporter(options: GitHubReporterOptions): GitHubReporter {
  const { settings, run, log } = options;
  const session = createSession(options);
  const pullRequest = pullRequestLookup(session, settings, options.recordedPullRequest);
  const publishers: Publisher[] = [
    createCommentPublisher(session, pullRequest),
    createDeploymentPublisher(session, settings.deploymentEnvironment),
  ];
  const repository = settings.token === '' ? undefined : run.repository;
  let warnedContext = false;
  const queue = createPublishQueue<RolloutReport>(
    async (report) => {
      if (!warnedContext && run.problems.length > 0) {
        warnedContext = true;
        log.warning(`GitHub reporting: ${run.problems.join('; ')}.`);
      }
      if (repository === undefined) return;
      await Promise.all(publishers.map((publish) => publish(report, repository)));
    },
    (error) => log.warning(`GitHub reporting failed unexpectedly: ${(error as Error).message}`),
  );
  return {
    update: (report) => queue.push(reportKey(report), report),
    flush: () => queue.drained(),
    pullRequest,
    hurry: () => session.hurry(),
  };
}

/** The pull request to report on, looked up once; undefined (with a notice) when there is none. */
function pullRequestLookup(
  session: GitHubSession,
  settings: GitHubSettings,
  recordedPullRequest: number | undefined,
): () => Promise<number | undefined> {
  const { run, log, policy } = session;
  let found: Promise<number | undefined> | undefined;
  const lookup = async (): Promise<number | undefined> => {
    try {
      const client = settings.token === '' || run.repository === undefined ? undefined : session.client();
      const result = await resolvePullRequest(client, policy, {
        run,
        input: settings.pullRequest,
        recordedPullRequest,
      });
      if (result.number === undefined) {
        log.notice(
          `No pull request to comment on: ${result.why}. Set the \`pull-request\` input to choose one.`,
        );
      } else {
        log.debug(`Reporting on pull request #${result.number} (from ${result.source}).`);
      }
      return result.number;
    } catch (error) {
      session.fail('lookup', error, 'this run');
      return undefined;
    }
  };
  return () => {
    found ??= lookup();
    return found;
  };
}
