// One place for GitHub HTTP: the Octokit client, typed errors, and the retry policy.
//
// @actions/github's getOctokit (v9) adds only the REST endpoint methods and pagination
// plugins: no @octokit/plugin-retry and no @octokit/plugin-throttling. So p-retry here is
// the single retry mechanism and nothing double-retries.
import { getOctokit } from '@actions/github';
import pRetry from 'p-retry';

export type Octokit = ReturnType<typeof getOctokit>;

export interface RetryPolicy {
  /** Retries after the first attempt, for 5xx, rate limits and network errors. */
  readonly retries: number;
  /** Backoff before the first retry (doubles each time). */
  readonly minTimeoutMs: number;
  /** The longest `retry-after` honoured; a longer one gives up on this update instead. */
  readonly maxRetryAfterMs: number;
  /** Per-request timeout. */
  readonly requestTimeoutMs: number;
  /** Waits `ms`; injectable so tests do not sleep. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch; injectable for x-ratelimit-reset arithmetic. */
  readonly now: () => number;
  /**
   * Ends every attempt and backoff under this policy when aborted (after a cancel: the
   * requests a newer report supersedes, and the deadline of the last ones). Its reason, a
   * GitHubError, is what the request fails with.
   */
  readonly signal?: AbortSignal;
}

export const defaultRetryPolicy: RetryPolicy = {
  retries: 4,
  minTimeoutMs: 1000,
  maxRetryAfterMs: 60_000,
  requestTimeoutMs: 30_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

export type GitHubErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'invalid'
  | 'rate-limited'
  | 'server'
  | 'unreachable'
  /** No answer within the request's timeout (or the time left after a cancel). */
  | 'timeout'
  /** Given up because a newer report replaces what the request would have written. */
  | 'superseded';

/** A failed GitHub request, classified. `message` never contains the token. */
export class GitHubError extends Error {
  override readonly name = 'GitHubError';
  readonly kind: GitHubErrorKind;
  readonly status: number | undefined;
  /** How long GitHub asked us to wait, when it did. */
  readonly retryAfterMs: number | undefined;

  constructor(kind: GitHubErrorKind, status: number | undefined, message: string, retryAfterMs?: number) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }

  /**
   * Worth another attempt of the same request. A timeout is not: the time is the budget, and
   * a later report tries again.
   */
  get transient(): boolean {
    return this.kind === 'server' || this.kind === 'rate-limited' || this.kind === 'unreachable';
  }
}

export function createOctokit(token: string, apiUrl: string): Octokit {
  // Silence Octokit's console logging of deprecations and such; warnings go through our Log.
  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  return getOctokit(token, { baseUrl: apiUrl, log: quiet });
}

interface HttpErrorShape {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function header(error: HttpErrorShape, name: string): string | undefined {
  const value = error.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** GitHub's wait hint: `retry-after` seconds, else the primary rate limit's reset time. */
function retryAfter(error: HttpErrorShape, now: number): number | undefined {
  const seconds = Number(header(error, 'retry-after'));
  if (header(error, 'retry-after') !== undefined && Number.isFinite(seconds))
    return Math.max(0, seconds * 1000);
  if (header(error, 'x-ratelimit-remaining') === '0') {
    const reset = Number(header(error, 'x-ratelimit-reset'));
    if (Number.isFinite(reset)) return Math.max(0, reset * 1000 - now);
  }
  return undefined;
}

/** Turns whatever Octokit threw into a GitHubError. */
function classify(thrown: unknown, now: number): GitHubError {
  if (thrown instanceof GitHubError) return thrown;
  const error = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as HttpErrorShape;
  const message = typeof error.message === 'string' ? error.message : String(thrown);
  const status = typeof error.status === 'number' ? error.status : undefined;
  // Octokit reports a failed fetch (refused, reset, DNS, timeout) as status 500 without a response;
  // an aborted fetch (our timeout) is the error itself or its cause.
  if (error.response === undefined) {
    const cause = (error as { cause?: { name?: unknown } }).cause;
    const name = (error as { name?: unknown }).name;
    const aborted = [name, cause?.name].some((n) => n === 'TimeoutError' || n === 'AbortError');
    return new GitHubError(aborted ? 'timeout' : 'unreachable', undefined, message);
  }
  const wait = retryAfter(error, now);
  if (status === 429 || (status === 403 && (wait !== undefined || /rate limit/i.test(message)))) {
    // Secondary rate limits without retry-after: GitHub says to wait at least a minute.
    return new GitHubError('rate-limited', status, message, wait ?? 60_000);
  }
  if (status === 401) return new GitHubError('unauthorized', status, message);
  if (status === 403) return new GitHubError('forbidden', status, message);
  if (status === 404 || status === 410) return new GitHubError('not-found', status, message);
  if (status !== undefined && status >= 500) return new GitHubError('server', status, message);
  return new GitHubError('invalid', status, message);
}

/**
 * Runs one GitHub request with retries: 5xx, network errors and rate limits are retried with
 * exponential backoff, waiting at least as long as `retry-after` says; a wait longer than
 * `maxRetryAfterMs` gives up at once. Anything else fails on the first attempt.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  request: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { signal } = policy;
  const given = (): GitHubError | undefined =>
    signal?.aborted === true && signal.reason instanceof GitHubError ? signal.reason : undefined;
  try {
    return await attempts(policy, request);
  } catch (thrown) {
    throw given() ?? classify(thrown, policy.now());
  }
}

function attempts<T>(policy: RetryPolicy, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = () => AbortSignal.timeout(policy.requestTimeoutMs);
  return pRetry(
    async () => {
      try {
        return await request(policy.signal ? AbortSignal.any([timeout(), policy.signal]) : timeout());
      } catch (thrown) {
        throw classify(thrown, policy.now());
      }
    },
    {
      ...(policy.signal ? { signal: policy.signal } : {}),
      retries: policy.retries,
      minTimeout: policy.minTimeoutMs,
      factor: 2,
      randomize: false,
      shouldRetry: ({ error }) =>
        error instanceof GitHubError &&
        error.transient &&
        (error.retryAfterMs === undefined || error.retryAfterMs <= policy.maxRetryAfterMs),
      onFailedAttempt: async ({ error, retriesLeft, retryDelay }) => {
        // p-retry waits `retryDelay` after this returns; top it up to what GitHub asked for.
        if (!(error instanceof GitHubError) || retriesLeft === 0 || error.retryAfterMs === undefined) return;
        if (error.retryAfterMs > policy.maxRetryAfterMs) return;
        const extra = error.retryAfterMs - retryDelay;
        if (extra > 0) await sleepOrReject(policy, extra);
      },
    },
  );
}

/** The policy's sleep, ended early (rejecting with the reason) when its signal aborts. */
async function sleepOrReject(policy: RetryPolicy, ms: number): Promise<void> {
  const { signal } = policy;
  if (signal === undefined) return policy.sleep(ms);
  signal.throwIfAborted();
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([policy.sleep(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
