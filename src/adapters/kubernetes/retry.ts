// The one retry policy every Kubernetes call goes through (p-retry). Transient failures are
// retried with backoff: 429 and 5xx (honouring Retry-After) and dropped or timed-out
// connections. Validation and permission errors (4xx) never are: retrying cannot fix them.
// 409 Conflict is not retried blindly either; `retryOnConflict` re-runs the caller's
// read-then-write so the intent is re-applied to the current object.
import pRetry, { AbortError } from 'p-retry';
import { KubeError, type Operation, toKubeError } from './errors.ts';

export interface RetryEvent {
  readonly operation: Operation;
  /** 1 for the first retry. */
  readonly attempt: number;
  /** How long we wait before the next attempt. */
  readonly delayMs: number;
  readonly error: KubeError;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 8). */
  readonly retries?: number;
  /** First backoff delay (default 250 ms); doubles up to `maxDelayMs`, randomised ×1-2. */
  readonly minDelayMs?: number;
  /** Longest backoff delay (default 8 s). */
  readonly maxDelayMs?: number;
  /** Longest Retry-After we honour (default 30 s). */
  readonly maxRetryAfterMs?: number;
  /** Called before every retry (and every conflict re-read), so callers can log and count them. */
  readonly onRetry?: (event: RetryEvent) => void;
}

/** Network failures that say nothing about the request itself, so the same request may succeed. */
const transientCodes = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
]);

/** Refused or unresolvable: transient only if this server has answered us before (a restart). */
const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether a failed call may be repeated as is. `serverAnswered` says whether the API server has
 * ever answered this process: a kubeconfig that points nowhere fails at once instead of after
 * a minute of backoff.
 */
export function isRetryable(error: KubeError, serverAnswered: boolean): boolean {
  if (error.reason === 'Invalid') return false;
  if (error.status === 429) return true;
  if (error.status >= 500) return error.status !== 501;
  if (error.status !== 0) return false;
  if (transientCodes.has(error.reason)) return true;
  if (unreachableCodes.has(error.reason)) return serverAnswered;
  // undici reports a reset mid-response as "terminated"/"other side closed" without a code.
  // ("fetch failed" alone wraps every network failure, certificate errors included: not enough.)
  return /socket hang up|other side closed|terminated/i.test(error.message) && serverAnswered;
}

export interface Retrier {
  /** Runs `call` under the policy; failures come out as KubeError naming `operation`. */
  run<T>(operation: Operation, call: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Runs `readAndWrite` again on 409 Conflict (see retryOnConflict), counting each re-read as a retry. */
  onConflict<T>(operation: Operation, readAndWrite: () => Promise<T>): Promise<T>;
  /** Number of retries so far (conflict re-reads included). */
  readonly retries: number;
  /** Whether any call has reached the API server yet. */
  readonly serverAnswered: boolean;
}

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function createRetrier(options: RetryOptions & { server?: string } = {}): Retrier {
  let retries = 0;
  let serverAnswered = false;
  const maxRetryAfter = options.maxRetryAfterMs ?? 30_000;
  return {
    get retries() {
      return retries;
    },
    get serverAnswered() {
      return serverAnswered;
    },
    onConflict<T>(operation: Operation, readAndWrite: () => Promise<T>): Promise<T> {
      return retryOnConflict(readAndWrite, {
        onConflict: (error, attempt) => {
          retries++;
          options.onRetry?.({ operation, attempt, delayMs: 0, error });
        },
      });
    },
    run<T>(operation: Operation, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      return pRetry(
        async () => {
          try {
            const result = await call();
            serverAnswered = true;
            return result;
          } catch (cause) {
            const error = toKubeError(cause, operation, options.server);
            if (error.status !== 0) serverAnswered = true;
            if (!isRetryable(error, serverAnswered)) throw new AbortError(error);
            throw error;
          }
        },
        {
          retries: options.retries ?? 8,
          minTimeout: options.minDelayMs ?? 250,
          maxTimeout: options.maxDelayMs ?? 8_000,
          factor: 2,
          randomize: true,
          signal,
          onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
            if (retriesLeft === 0 || !(error instanceof KubeError)) return;
            retries++;
            const extra = Math.min(error.retryAfterMs ?? 0, maxRetryAfter) - retryDelay;
            options.onRetry?.({
              operation,
              attempt: attemptNumber,
              delayMs: retryDelay + Math.max(0, extra),
              error,
            });
            if (extra > 0) await sleepUnlessAborted(extra, signal);
          },
        },
      );
    },
  };
}

/**
 * Runs `readAndWrite` again when it fails with 409 Conflict. The function must re-read the
 * object and re-apply its intent to what it read (never re-send a stale object).
 */
export async function retryOnConflict<T>(
  readAndWrite: () => Promise<T>,
  options: { attempts?: number; onConflict?: (error: KubeError, attempt: number) => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await readAndWrite();
    } catch (error) {
      if (!(error instanceof KubeError) || error.status !== 409 || attempt >= attempts) throw error;
      options.onConflict?.(error, attempt);
    }
  }
}
