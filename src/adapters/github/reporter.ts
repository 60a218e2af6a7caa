// The GitHub Reporter: a sticky pull request comment and GitHub Deployment statuses per
// StatefulSet. Reporting never breaks a rollout: every failure becomes a warning that names
// the fix, and a channel that cannot work is switched off (session.ts). Each report goes
// through a queue per StatefulSet (publish-queue.ts) to one publisher per channel
// (comment-publisher.ts, deployment-publisher.ts). The job summary is not written here but by
// src/adapters/actions/job-summary.ts.

import type { GitHubSettings } from '../../config/settings.ts';
import type { Fleet } from '../../engine/fleet.ts';
import type { RolloutReport } from '../../engine/report.ts';
import type { Log } from '../../ports/log.ts';
import type { Reporter } from '../../ports/reporter.ts';
import type { RetryPolicy } from './api.ts';
import { createCommentPublisher } from './comment-publisher.ts';
import type { GitHubRunContext } from './context.ts';
import { createDeploymentPublisher } from './deployment-publisher.ts';
import { environmentOf } from './deployments.ts';
import type { EditPace } from './edit-pacer.ts';
import { createFleetComment } from './fleet-comment.ts';
import { createPlanPublisher, type PlanPublisher } from './plan-comment.ts';
import { createPublishQueue } from './publish-queue.ts';
import { resolvePullRequests } from './pull-request.ts';
import { createSession, type GitHubSession, type Publisher, reportKey } from './session.ts';
import { createSupersededPublisher } from './superseded.ts';

export interface GitHubReporterOptions {
  readonly settings: GitHubSettings;
  readonly run: GitHubRunContext;
  readonly log: Log;
  /** The pull request recorded on the StatefulSet, for workflow_dispatch rollbacks. */
  readonly recordedPullRequest?: number;
  /** The commits recorded on the StatefulSets a push rolls out: where its pull requests start. */
  readonly recordedCommits?: readonly string[];
  /** Retry timing; tests shorten it. */
  readonly retry?: Partial<RetryPolicy>;
  /** Pacing of comment writes; tests shorten it. */
  readonly pace?: Partial<EditPace>;
}

export interface GitHubReporter extends Reporter {
  /**
   * The pull requests this run reports on, latest merge first (resolved once, on first use;
   * empty: none, with a notice).
   */
  pullRequests(): Promise<readonly number[]>;
  /**
   * The pull request to record on the StatefulSet, so a later rollback can tell it: the first
   * of pullRequests().
   */
  pullRequest(): Promise<number | undefined>;
  /**
   * Resolves once the newest report of every StatefulSet is published (or given up on). Call
   * it before the step ends. Never throws.
   */
  flush(): Promise<void>;
  /** The run was cancelled: the last reports go out within the runner's budget (session.ts). */
  hurry(): void;
  /** `command: plan`: the sticky plan comment of each StatefulSet on the pull request. */
  readonly publishPlan: PlanPublisher;
}

export function createGitHubReporter(options: GitHubReporterOptions): GitHubReporter {
  const { settings, run, log } = options;
  const session = createSession(options);
  const pullRequests = pullRequestLookup(session, settings, options);
  // The newest report of each StatefulSet: a comment write that waited its turn sends it.
  const newest = new Map<string, RolloutReport>();
  // A run of more than one StatefulSet or context: one comment for all (fleet-comment.ts).
  const fleet = createFleetComment(session, pullRequests);
  let runFleet: Fleet | undefined;
  const comment = createCommentPublisher(session, pullRequests, (key) => newest.get(key));
  const publishers: Publisher[] = [
    (report, repository) => (fleet.active ? Promise.resolve() : comment(report, repository)),
    createDeploymentPublisher(session, (report) =>
      environmentOf(settings.deploymentEnvironment, runFleet, report.context),
    ),
    createSupersededPublisher(session, pullRequests),
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
    update: (report) => {
      newest.set(reportKey(report), report);
      // Not awaited: a StatefulSet's end does not wait for the fleet comment's pacing; flush does.
      if (fleet.active && repository !== undefined) void fleet.update(report, repository);
      return queue.push(reportKey(report), report);
    },
    fleet: (given) => {
      runFleet = given;
      fleet.setFleet(given);
    },
    flush: async () => {
      await queue.drained();
      await fleet.end(repository);
    },
    pullRequests,
    pullRequest: async () => (await pullRequests())[0],
    hurry: () => session.hurry(),
    publishPlan: createPlanPublisher(session, pullRequests, settings.token !== '', settings.pullRequest),
  };
}

/** The pull requests to report on, looked up once; empty (with a notice) when there is none. */
function pullRequestLookup(
  session: GitHubSession,
  settings: GitHubSettings,
  sources: Pick<GitHubReporterOptions, 'recordedPullRequest' | 'recordedCommits'>,
): () => Promise<readonly number[]> {
  const { run, log } = session;
  let found: Promise<readonly number[]> | undefined;
  const lookup = async (): Promise<readonly number[]> => {
    try {
      const client = settings.token === '' || run.repository === undefined ? undefined : session.client();
      const result = await resolvePullRequests(client, session.policy, {
        run,
        input: settings.pullRequest,
        recordedPullRequest: sources.recordedPullRequest,
        recordedCommits: sources.recordedCommits ?? [],
      });
      for (const note of result.notes ?? []) log.debug(`Finding the pull requests: ${note}.`);
      if ('why' in result) {
        log.notice(
          `No pull request to comment on: ${result.why}. Set the \`pull-request\` input to choose one.`,
        );
      } else {
        const list = result.numbers.map((n) => `#${n}`).join(', ');
        log.debug(
          `Reporting on pull request${result.numbers.length > 1 ? 's' : ''} ${list} (from ${result.source}).`,
        );
      }
      return result.numbers;
    } catch (error) {
      session.fail('lookup', error, 'this run');
      return [];
    }
  };
  return () => {
    found ??= lookup();
    return found;
  };
}
