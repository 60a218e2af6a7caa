// The GitHub Reporter: a sticky pull request comment and GitHub Deployment statuses per
// StatefulSet, plus the job summary on flush. Reporting never breaks a rollout: every failure
// becomes a warning that names the fix, and a channel that cannot work is switched off.

import type { GitHubSettings } from '../../config/settings.ts';
import type { RolloutReport } from '../../engine/report.ts';
import type { Log } from '../../ports/log.ts';
import type { Reporter } from '../../ports/reporter.ts';
import { renderReport } from '../markdown.ts';
import { createOctokit, defaultRetryPolicy, GitHubError, type Octokit, type RetryPolicy } from './api.ts';
import {
  commentMarker,
  createComment,
  findComment,
  type Identity,
  resolveIdentity,
  updateComment,
} from './comment.ts';
import type { GitHubRunContext, Repository } from './context.ts';
import { createDeployment, createDeploymentStatus, deploymentStatus, statusKey } from './deployments.ts';
import { explain } from './explain.ts';
import { resolvePullRequest } from './pull-request.ts';

export interface GitHubReporterOptions {
  readonly settings: GitHubSettings;
  readonly run: GitHubRunContext;
  readonly log: Log;
  /** The pull request recorded on the StatefulSet, for workflow_dispatch rollbacks. */
  readonly recordedPullRequest?: number;
  /** Writes the job summary; called by flush() with each StatefulSet's final report. */
  readonly summary?: (markdown: string) => Promise<void>;
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
   * Resolves once the newest report of every StatefulSet is published (or given up on), then
   * writes the job summary. Call it before the step ends. Never throws.
   */
  flush(): Promise<void>;
}

type Channel = 'comment' | 'deployment' | 'lookup';

/** Per StatefulSet: the newest report, and what has been published of it. */
interface Track {
  latest: RolloutReport;
  requested: number;
  published: number;
  summarized: number;
  running: boolean;
  waiters: Array<{ readonly generation: number; readonly resolve: () => void }>;
  commentId: number | undefined;
  lastBody: string | undefined;
  deploymentId: number | undefined;
  lastStatus: string | undefined;
}

export function createGitHubReporter(options: GitHubReporterOptions): GitHubReporter {
  const { settings, run, log } = options;
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const repository: Repository | undefined = settings.token === '' ? undefined : run.repository;
  const off = new Set<Channel>();
  if (!settings.comment) off.add('comment');
  if (settings.deploymentEnvironment === undefined) off.add('deployment');
  const tracks = new Map<string, Track>();
  let octokit: Octokit | undefined;
  let pullRequest: Promise<number | undefined> | undefined;
  let identity: Promise<Identity> | undefined;
  let warnedContext = false;

  const client = (): Octokit => {
    octokit ??= createOctokit(settings.token, run.apiUrl);
    return octokit;
  };

  function fail(channel: Channel, error: unknown, subject: string, pr?: number): void {
    const problem =
      error instanceof GitHubError ? error : new GitHubError('invalid', undefined, String(error));
    const permanent = !problem.transient || problem.kind === 'unreachable';
    if (permanent) off.add(channel);
    log.warning(explain({ channel, error: problem, subject, run, pullRequest: pr, policy, permanent }));
  }

  function findPullRequest(): Promise<number | undefined> {
    pullRequest ??= (async () => {
      try {
        const found = await resolvePullRequest(repository === undefined ? undefined : client(), policy, {
          run,
          input: settings.pullRequest,
          recordedPullRequest: options.recordedPullRequest,
        });
        if (found.number === undefined) {
          log.notice(
            `No pull request to comment on: ${found.why}. Set the \`pull-request\` input to choose one.`,
          );
        } else {
          log.debug(`Reporting on pull request #${found.number} (from ${found.source}).`);
        }
        return found.number;
      } catch (error) {
        fail('lookup', error, 'this run');
        return undefined;
      }
    })();
    return pullRequest;
  }

  async function publishComment(track: Track, report: RolloutReport, repo: Repository): Promise<void> {
    const pr = off.has('comment') ? undefined : await findPullRequest();
    if (pr === undefined || off.has('comment')) return;
    const body = renderReport(report, {
      marker: commentMarker(report.context, report.namespace, report.name),
    });
    if (body === track.lastBody) return;
    const target = { repository: repo, pullRequest: pr };
    try {
      if (track.commentId === undefined) {
        identity ??= resolveIdentity(client(), policy);
        track.commentId = await findComment(client(), policy, target, marker(report), await identity);
      }
      if (track.commentId !== undefined) {
        try {
          await updateComment(client(), policy, repo, track.commentId, body);
        } catch (error) {
          // Someone deleted the comment since: write a new one.
          if (!(error instanceof GitHubError) || error.kind !== 'not-found') throw error;
          track.commentId = undefined;
        }
      }
      if (track.commentId === undefined) {
        track.commentId = await createComment(client(), policy, target, body);
        log.info(`Commented on pull request #${pr} for ${report.namespace}/${report.name}.`);
      }
      track.lastBody = body;
    } catch (error) {
      identity = undefined;
      fail('comment', error, subject(report), pr);
    }
  }

  async function publishDeployment(track: Track, report: RolloutReport, repo: Repository): Promise<void> {
    const environment = settings.deploymentEnvironment;
    if (off.has('deployment') || environment === undefined) return;
    if (run.sha === undefined) {
      off.add('deployment');
      log.warning('GitHub Deployments are off: GITHUB_SHA is not set, so there is no commit to deploy.');
      return;
    }
    const status = deploymentStatus(report);
    const key = statusKey(report, status);
    if (key === track.lastStatus) return;
    try {
      track.deploymentId ??= await createDeployment(client(), policy, {
        repository: repo,
        sha: run.sha,
        environment,
        report,
      });
      await createDeploymentStatus(client(), policy, repo, track.deploymentId, {
        ...status,
        logUrl: run.runUrl,
      });
      track.lastStatus = key;
    } catch (error) {
      fail('deployment', error, subject(report));
    }
  }

  async function publish(track: Track, report: RolloutReport): Promise<void> {
    if (!warnedContext && run.problems.length > 0) {
      warnedContext = true;
      log.warning(`GitHub reporting: ${run.problems.join('; ')}.`);
    }
    if (repository === undefined) return;
    await Promise.all([
      publishComment(track, report, repository),
      publishDeployment(track, report, repository),
    ]);
  }

  // Publishes the newest report until caught up: reports that arrive while a request is in
  // flight collapse into the next one, so a burst costs at most two rounds.
  async function drain(track: Track): Promise<void> {
    track.running = true;
    while (track.published < track.requested) {
      const generation = track.requested;
      try {
        await publish(track, track.latest);
      } catch (error) {
        log.warning(`GitHub reporting failed unexpectedly: ${(error as Error).message}`);
      }
      track.published = generation;
      const ready = track.waiters.filter((w) => w.generation <= generation);
      track.waiters = track.waiters.filter((w) => w.generation > generation);
      for (const waiter of ready) waiter.resolve();
    }
    track.running = false;
  }

  function waitFor(track: Track, generation: number): Promise<void> {
    if (track.published >= generation) return Promise.resolve();
    return new Promise((resolve) => track.waiters.push({ generation, resolve }));
  }

  function update(report: RolloutReport): Promise<void> {
    const key = marker(report);
    let track = tracks.get(key);
    if (track === undefined) {
      track = {
        latest: report,
        requested: 0,
        published: 0,
        summarized: 0,
        running: false,
        waiters: [],
        commentId: undefined,
        lastBody: undefined,
        deploymentId: undefined,
        lastStatus: undefined,
      };
      tracks.set(key, track);
    }
    track.latest = report;
    const done = waitFor(track, ++track.requested);
    if (!track.running) void drain(track);
    return done;
  }

  async function flush(): Promise<void> {
    await Promise.all([...tracks.values()].map((track) => waitFor(track, track.requested)));
    if (options.summary === undefined) return;
    for (const track of tracks.values()) {
      if (track.summarized >= track.published) continue;
      track.summarized = track.published;
      try {
        await options.summary(renderReport(track.latest));
      } catch (error) {
        log.warning(`Could not write the job summary: ${(error as Error).message}`);
      }
    }
  }

  return { update, flush, pullRequest: findPullRequest };
}

function subject(report: RolloutReport): string {
  return `${report.namespace}/${report.name}`;
}

function marker(report: RolloutReport): string {
  return commentMarker(report.context, report.namespace, report.name);
}
