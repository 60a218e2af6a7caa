// The Lock port: one run at a time per StatefulSet. Implemented by a coordination.k8s.io
// Lease in src/adapters/kubernetes/lock.ts.
import type { StatefulSetRef } from './cluster.ts';

/** One run's exclusive hold on a StatefulSet (a coordination.k8s.io Lease). */
export interface Lock {
  /** Waits up to `timeoutMs` for the lock; throws naming the holder when it cannot be had. */
  acquire(ref: StatefulSetRef, holder: string, timeoutMs: number): Promise<LockHandle>;
}

export interface LockHandle {
  /** Aborts when the lock was lost (taken over, deleted, or not renewed in time). */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}
