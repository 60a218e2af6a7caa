// GitHub's secondary rate limits count content-creating requests, edits included: no more than
// 80 a minute and 500 an hour for a token, and no concurrent ones. A rollout reports at every
// stage, soak tick and analysis round, so the run's comment writes (POST or PATCH) go out one at
// a time (each after the one before ended), at least `minIntervalMs` apart across the whole run: with the default 10 s, at most 6 a
// minute and 360 an hour per run, whatever the number of StatefulSets and pull requests. A write
// that waited its turn sends the newest body (comment-publisher.ts), so waiting coalesces.
// A `retry-after` from GitHub holds every later write back until it has passed. After a cancel
// nothing waits: the runner's budget is seconds (session.ts).

export interface EditPace {
  /** Least time between two comment writes of one run. */
  readonly minIntervalMs: number;
  /** Waits `ms`; injectable so tests do not sleep. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

export const defaultEditPace: EditPace = {
  minIntervalMs: 10_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

export interface EditPacer {
  /**
   * Resolves when the next comment write of the run may go out, with `done`: call it (in a
   * `finally`) when that write ended. The turn after waits for `done` and for the interval, so
   * two writes never overlap, however long GitHub takes to answer one.
   */
  turn(): Promise<() => void>;
  /** GitHub asked to wait `ms`: no write goes out before that has passed. */
  holdOff(ms: number): void;
}

export function createEditPacer(pace: EditPace, hurried: () => boolean): EditPacer {
  let nextAt = Number.NEGATIVE_INFINITY;
  let queue: Promise<void> = Promise.resolve();
  return {
    turn() {
      let done: () => void = () => undefined;
      const ended = new Promise<void>((resolve) => {
        done = resolve;
      });
      const mine = queue.then(async () => {
        const wait = nextAt - pace.now();
        if (wait > 0 && !hurried()) await pace.sleep(wait);
        nextAt = Math.max(nextAt, pace.now() + pace.minIntervalMs);
        return done;
      });
      // Never rejected: one failed wait must not stop every later write.
      queue = mine.then(
        () => ended,
        () => undefined,
      );
      return mine;
    },
    holdOff(ms) {
      nextAt = Math.max(nextAt, pace.now() + ms);
    },
  };
}
