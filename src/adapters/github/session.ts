// What the GitHub publishers share in one run: the run context, the log, the retry policy, one
// lazily made Octokit client, and which channels are still on. A channel that cannot work (no
// permission, no such repository, GitHub unreachable) is switched off after one warning that
// names the fix; a passing failure only warns.
import type { GitHubSettings } from '../../config/settings.ts';
import type { RolloutReport } from '../../engine/report.ts';
import type { Log } from '../../ports/log.ts';
import { createOctokit, defaultRetryPolicy, GitHubError, type Octokit, type RetryPolicy } from './api.ts';
import { commentMarker } from './comment.ts';
import type { GitHubRunContext, Repository } from './context.ts';
import { explain } from './explain.ts';

export type Channel = 'comment' | 'deployment' | 'lookup';

export interface GitHubSession {
  readonly run: GitHubRunContext;
  readonly log: Log;
  readonly policy: RetryPolicy;
  /** The Octokit client, made on first use. */
  client(): Octokit;
  isOff(channel: Channel): boolean;
  switchOff(channel: Channel): void;
  /** Warns that a request for `subject` failed, switching `channel` off when retrying cannot help. */
  fail(channel: Channel, error: unknown, subject: string, pullRequest?: number): void;
}

export interface SessionOptions {
  readonly settings: GitHubSettings;
  readonly run: GitHubRunContext;
  readonly log: Log;
  /** Retry timing; tests shorten it. */
  readonly retry?: Partial<RetryPolicy>;
}

export function createSession(options: SessionOptions): GitHubSession {
  const { settings, run, log } = options;
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const off = new Set<Channel>();
  if (!settings.comment) off.add('comment');
  if (settings.deploymentEnvironment === undefined) off.add('deployment');
  let octokit: Octokit | undefined;
  return {
    run,
    log,
    policy,
    client() {
      octokit ??= createOctokit(settings.token, run.apiUrl);
      return octokit;
    },
    isOff: (channel) => off.has(channel),
    switchOff: (channel) => {
      off.add(channel);
    },
    fail(channel, error, subject, pullRequest) {
      const problem =
        error instanceof GitHubError ? error : new GitHubError('invalid', undefined, String(error));
      const permanent = !problem.transient || problem.kind === 'unreachable';
      if (permanent) off.add(channel);
      log.warning(explain({ channel, error: problem, subject, run, pullRequest, policy, permanent }));
    },
  };
}

/** Publishes one report on one channel; never throws (failures go to GitHubSession.fail). */
export type Publisher = (report: RolloutReport, repository: Repository) => Promise<void>;

/** One StatefulSet of one cluster context: the key of its comment, deployment and queue. */
export function reportKey(report: RolloutReport): string {
  return commentMarker(report.context, report.namespace, report.name);
}

/** `namespace/name`, for warnings. */
export function subjectOf(report: RolloutReport): string {
  return `${report.namespace}/${report.name}`;
}
