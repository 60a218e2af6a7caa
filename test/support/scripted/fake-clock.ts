// A Clock whose time moves only when a test says so. Sleepers resolve when `advance`
// passes their due time (in due order, letting the code under test run between them), or
// at once when their signal aborts; nothing waits in real time.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../../../src/ports/clock.ts';

interface Sleeper {
  readonly due: number;
  readonly wake: () => void;
}

/**
 * Lets every piece of in-memory work that is ready run: resolved promises, the reactions
 * they trigger, and so on, a few event-loop turns deep. Real I/O (files, sockets) may need
 * more: wait for one of its effects instead (ScriptedCluster.written).
 */
export async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn();
}

export class FakeClock implements Clock {
  private time: number;
  private readonly sleepers = new Set<Sleeper>();
  private readonly registered: (() => void)[] = [];

  /** Starts at `start` ms since the epoch (a round, recognisable time by default). */
  constructor(start = Date.UTC(2030, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        due: this.time + ms,
        wake: () => {
          this.sleepers.delete(sleeper);
          signal?.removeEventListener('abort', sleeper.wake);
          resolve();
        },
      };
      signal?.addEventListener('abort', sleeper.wake, { once: true });
      this.sleepers.add(sleeper);
      for (const notify of this.registered.splice(0)) notify();
    });
  }

  /** Due times of every pending sleep, earliest first: what the code under test waits for. */
  pending(): number[] {
    return [...this.sleepers].map((s) => s.due).sort((a, b) => a - b);
  }

  /** Resolves when the next sleep is registered (one registered before the call does not count). */
  nextSleep(): Promise<void> {
    return new Promise((resolve) => this.registered.push(resolve));
  }

  /** Lets ready work run (see `settle`), then returns. */
  settle(): Promise<void> {
    return settle();
  }

  /** Moves time forward by `ms`; see `advanceTo`. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.time + ms);
  }

  /**
   * Moves time forward to `target`, waking each sleeper due by then at its own due time, in
   * order, and letting the woken code run (and register new sleepers) before time moves on.
   */
  async advanceTo(target: number): Promise<void> {
    if (target < this.time) throw new RangeError(`cannot move the clock back from ${this.time} to ${target}`);
    await settle();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.due > target) break;
      this.time = Math.max(this.time, next.due);
      next.wake();
      await settle();
    }
    this.time = target;
    await settle();
  }

  private earliest(): Sleeper | undefined {
    let first: Sleeper | undefined;
    for (const s of this.sleepers) if (first === undefined || s.due < first.due) first = s;
    return first;
  }
}
