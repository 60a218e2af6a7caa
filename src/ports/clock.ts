// The Clock port: the only source of time for the runner, the lock and the watch, so a fake
// clock in tests can drive soaks, timeouts, lease renewals and reconnect backoff.
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
