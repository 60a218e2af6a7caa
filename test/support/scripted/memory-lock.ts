// An in-memory Lock port for runner unit tests: every acquire succeeds at once, and the
// test takes the lock away (as another run taking the Lease over would) with `lose()`.
import type { StatefulSetRef } from '../../../src/ports/cluster.ts';
import type { Lock, LockHandle } from '../../../src/ports/lock.ts';

export class MemoryLock implements Lock {
  /** Every acquire, in order. */
  readonly acquired: { readonly ref: StatefulSetRef; readonly holder: string; readonly timeoutMs: number }[] =
    [];
  /** How many handles were released. */
  released = 0;
  private readonly held: AbortController[] = [];

  async acquire(ref: StatefulSetRef, holder: string, timeoutMs: number): Promise<LockHandle> {
    this.acquired.push({ ref, holder, timeoutMs });
    const lost = new AbortController();
    this.held.push(lost);
    let released = false;
    return {
      lost: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        this.released++;
        this.held.splice(this.held.indexOf(lost), 1);
      },
    };
  }

  /** Aborts every held handle's `lost` signal: the Lease was taken over or not renewed in time. */
  lose(): void {
    for (const lost of this.held) lost.abort(new Error('the Lease was taken over by another holder'));
  }
}
