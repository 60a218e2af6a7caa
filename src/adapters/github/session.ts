// What the GitHub publishers share in one run: the run context, the log, the retry policy, one
// lazily made Octokit client, and which channels are still on. A channel that cannot work (no
// permission, no such repository, GitHub unreachable) is switched off after one warning that
// names the fix; a passing failure only warns.
//
// After a cancel (`hurry`) the runner gives the step 7.5 s until SIGTERM and 2.5 s more until
// it kills it. The last reports must be attempted within that budget, whatever GitHub's speed:
// requests already in flight get `cancelBudget.inFlightMs` more (a newer report replaces what
// they write), then every request has `cancelBudget.requestTimeoutMs` and one quick retry, and
// whatever is still open `cancelBudget.deadlineMs` after the cancel is given up. (A request
// that times out is not retried at any time: the time is its budget, the next report retries.)
import type { GitHubSettings } from '../../config/settings.ts';
import type { RolloutReport } from '../../engine/report.ts';
import type { Log } from '../../ports/log.ts';
import { createOctokit, defaultRetryPolicy, GitHubError, type Octokit, type RetryPolicy } from './api.ts';
import { commentMarker } from './comment.ts';
import type { GitHubRunContext, Repository } from './context.ts';
import { createEditPacer, defaultEditPace, type EditPace, type EditPacer } from './edit-pacer.ts';
import { explain } from './explain.ts';

type Channel = 'comment' | 'deployment' | 'lookup';

/** GitHub's share of the runner's cancel budget (SIGINT, 7.5 s, SIGTERM, 2.5 s, kill). */
export const cancelBudget = {
  /** How much longer a request in flight at the cancel may take. */
  inFlightMs: 1500,
  /** Timeout of each request after the cancel. */
  requestTimeoutMs: 2000,
  /** Retries after the cancel (5xx, network; not timeouts), after this backoff. */
  retries: 1,
  backoffMs: 200,
  /** Everything GitHub-side ends this long after the cancel, well before SIGTERM. */
  deadlineMs: 5000,
} as const;

/**
 * Least time between two deployment writes (a deployment or a status) of one run: with the
 * comment writes' 6 a minute, at most 66 content-creating requests a minute, under GitHub's 80.
 */
const deploymentIntervalMs = 1000;

export interface GitHubSession {
  readonly run: GitHubRunContext;
  readonly log: Log;
  /** The retry policy for a request starting now (shorter once the run is cancelled). */
  readonly policy: RetryPolicy;
  /** The Octokit client, made on first use. */
  client(): Octokit;
  isOff(channel: Channel): boolean;
  switchOff(channel: Channel): void;
  /** Warns that a request for `subject` failed, switching `channel` off when retrying cannot help. */
  fail(channel: Channel, error: unknown, subject: string, pullRequest?: number): void;
  /** The run was cancelled: from now on, requests fit in the cancel budget (see cancelBudget). */
  hurry(): void;
  /** Whether the run was cancelled (hurry was called). */
  readonly hurried: boolean;
  /** Paces the run's comment writes under GitHub's secondary rate limits (edit-pacer.ts). */
  readonly pacer: EditPacer;
  /** Paces the run's deployment writes: at least `deploymentIntervalMs` apart. */
  readonly deploymentPacer: EditPacer;
}

export interface SessionOptions {
  readonly settings: GitHubSettings;
  readonly run: GitHubRunContext;
  readonly log: Log;
  /** Retry timing; tests shorten it. */
  readonly retry?: Partial<RetryPolicy>;
  /** Pacing of comment writes; tests shorten it. */
  readonly pace?: Partial<EditPace>;
}

/** An AbortController whose abort, after `ms`, carries `error` (not kept alive by the timer). */
function abortLater(ms: number, error: GitHubError): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(error), ms).unref();
  return controller.signal;
}

export function createSession(options: SessionOptions): GitHubSession {
  const { settings, run, log } = options;
  const inFlight = new AbortController();
  const normal: RetryPolicy = { ...defaultRetryPolicy, ...options.retry, signal: inFlight.signal };
  let policy = normal;
  let hurried = false;
  const off = new Set<Channel>();
  if (!settings.comment) off.add('comment');
  if (settings.deploymentEnvironment === undefined) off.add('deployment');
  let octokit: Octokit | undefined;
  const pace = { ...defaultEditPace, ...options.pace };
  const pacer = createEditPacer(pace, () => hurried);
  const deploymentPacer = createEditPacer(
    { ...pace, minIntervalMs: Math.min(pace.minIntervalMs, deploymentIntervalMs) },
    () => hurried,
  );
  return {
    run,
    log,
    pacer,
    deploymentPacer,
    get hurried() {
      return hurried;
    },
    get policy() {
      return policy;
    },
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
      if (problem.kind === 'superseded') {
        log.debug(`GitHub ${channel} request for ${subject} given up: ${problem.message}`);
        return;
      }
      // A slow GitHub (timeout) is passing: the next report tries again.
      const permanent = problem.kind === 'unreachable' || (!problem.transient && problem.kind !== 'timeout');
      if (permanent) off.add(channel);
      log.warning(
        explain({
          channel,
          error: problem,
          subject,
          run,
          pullRequest,
          policy,
          permanent,
          cancelled: hurried,
        }),
      );
    },
    hurry() {
      if (hurried) return;
      hurried = true;
      policy = cancelPolicy(normal, inFlight);
    },
  };
}

/**
 * The retry policy once the run is cancelled: the last reports must fit in the seconds a runner
 * leaves; requests still in flight are given up after a short while.
 */
function cancelPolicy(normal: RetryPolicy, inFlight: AbortController): RetryPolicy {
  const superseded = new GitHubError(
    'superseded',
    undefined,
    'the run was cancelled; the report of the cancel replaces this one',
  );
  setTimeout(() => inFlight.abort(superseded), cancelBudget.inFlightMs).unref();
  const deadline = new GitHubError(
    'timeout',
    undefined,
    `no answer within the ${cancelBudget.deadlineMs / 1000} s this action allows GitHub after a cancel`,
  );
  return {
    ...normal,
    retries: cancelBudget.retries,
    minTimeoutMs: cancelBudget.backoffMs,
    maxRetryAfterMs: 0,
    requestTimeoutMs: Math.min(normal.requestTimeoutMs, cancelBudget.requestTimeoutMs),
    signal: abortLater(cancelBudget.deadlineMs, deadline),
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
