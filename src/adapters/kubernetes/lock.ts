// One rollout per StatefulSet at a time: a coordination.k8s.io/v1 Lease named
// `statefulset-canary-<sts>` in the StatefulSet's namespace. Every write carries the
// resourceVersion it was based on, so two runs racing for an expired lease cannot both win:
// the loser gets 409 and re-reads.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../../ports/clock.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import type { Lock, LockHandle } from '../../ports/lock.ts';
import { systemClock } from '../system-clock.ts';
import { KubeError, type Operation } from './errors.ts';
import { type Api, createApi } from './http.ts';
import { leasesPath } from './paths.ts';
import type { RetryEvent, RetryOptions } from './retry.ts';
import type { RawMeta } from './types.ts';

export interface LockOptions {
  /** How long a lease outlives its last renewal (default 30 s): a dead holder blocks this long. */
  readonly leaseDurationSeconds?: number;
  /** Renewal period while held (default a third of the duration). */
  readonly renewEverySeconds?: number;
  /** How often a waiting run re-reads the lease (default 1 s). */
  readonly pollEveryMs?: number;
  readonly onRetry?: (event: RetryEvent) => void;
  readonly retry?: Omit<RetryOptions, 'onRetry'>;
  /** Lease times, renewals and waits (default: the system clock). */
  readonly clock?: Clock;
}

interface KubeLockHandle extends LockHandle {
  /** Aborts when the lease was lost (taken over or deleted, or not renewed for a full duration). */
  readonly lost: AbortSignal;
}

export interface KubeLock extends Lock {
  acquire(ref: StatefulSetRef, holder: string, timeoutMs: number): Promise<KubeLockHandle>;
}

interface RawLease {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: RawMeta;
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

export function leaseName(statefulSet: string): string {
  return `statefulset-canary-${statefulSet}`;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits (the server rejects three). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Whether nobody holds the lease now: released, or not renewed within its duration. */
export function leaseIsFree(lease: RawLease, now: number): boolean {
  const spec = lease.spec ?? {};
  if (!spec.holderIdentity) return true;
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
  if (Number.isNaN(renewed)) return true;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < now;
}

export function createLock(kubeConfig: KubeConfig, options: LockOptions = {}): KubeLock {
  const api = createApi(kubeConfig, { ...options.retry, onRetry: options.onRetry });
  const duration = options.leaseDurationSeconds ?? 30;
  const renewEveryMs = (options.renewEverySeconds ?? duration / 3) * 1000;
  const pollMs = options.pollEveryMs ?? 1000;
  const clock = options.clock ?? systemClock;

  return {
    async acquire(ref: StatefulSetRef, holder: string, timeoutMs: number): Promise<KubeLockHandle> {
      const name = leaseName(ref.name);
      const leases = new Leases(api, clock, ref.namespace, name);
      const deadline = clock.now() + timeoutMs;
      for (;;) {
        const taken = await leases.tryAcquire(holder, duration);
        if (taken === 'acquired') return hold(leases, holder, duration, renewEveryMs);
        if (clock.now() >= deadline) throw heldError(ref, name, taken, timeoutMs);
        await clock.sleep(Math.min(pollMs, Math.max(1, deadline - clock.now())));
      }
    },
  };
}

function heldError(ref: StatefulSetRef, name: string, lease: RawLease, timeoutMs: number): Error {
  const spec = lease.spec ?? {};
  const renewed = Date.parse(spec.renewTime ?? '');
  const expires = Number.isNaN(renewed)
    ? ''
    : `; it expires at ${new Date(renewed + (spec.leaseDurationSeconds ?? 0) * 1000).toISOString()} unless renewed`;
  return new KubeError(
    `StatefulSet ${ref.namespace}/${ref.name} is locked by another rollout: ${spec.holderIdentity} ` +
      `(Lease ${ref.namespace}/${name}${expires}). Waited ${Math.round(timeoutMs / 1000)} s. Let that run finish, ` +
      'or raise `lock-timeout` to wait for it; a run that died is taken over once its lease expires.',
    { status: 409, reason: 'Locked', operation: { verb: 'lock', kind: 'StatefulSet', ...ref } },
  );
}

/** Reads and writes one Lease; every write is conditional on the resourceVersion read. */
class Leases {
  readonly api: Api;
  readonly clock: Clock;
  readonly path: string;
  readonly op: Operation;
  constructor(api: Api, clock: Clock, namespace: string, name: string) {
    this.api = api;
    this.clock = clock;
    this.path = `${leasesPath(namespace)}/${encodeURIComponent(name)}`;
    this.op = { verb: 'get', kind: 'Lease', namespace, name };
  }

  async read(): Promise<RawLease | undefined> {
    try {
      return await this.api.request<RawLease>(this.op, { method: 'GET', path: this.path });
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** 'acquired', or the lease as another holder has it. */
  async tryAcquire(holder: string, duration: number): Promise<'acquired' | RawLease> {
    const now = microTime(this.clock.now());
    const current = await this.read();
    const spec = { holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: now, renewTime: now };
    try {
      if (!current) {
        await this.write('POST', {
          metadata: { name: this.op.name },
          spec: { ...spec, leaseTransitions: 0 },
        });
        return 'acquired';
      }
      // Our own holder string: a rerun of the same run, or a create whose reply was lost.
      if (current.spec?.holderIdentity !== holder && !leaseIsFree(current, this.clock.now())) return current;
      const transitions =
        (current.spec?.leaseTransitions ?? 0) + (current.spec?.holderIdentity === holder ? 0 : 1);
      await this.write('PUT', {
        metadata: current.metadata,
        spec: { ...spec, leaseTransitions: transitions },
      });
      return 'acquired';
    } catch (error) {
      if (!(error instanceof KubeError) || error.status !== 409) throw error;
      // 409: someone created or changed it between our read and write; or our own write landed
      // but its reply was lost and the retry collided with it. The acquireTime we sent tells.
      const after = await this.read();
      if (after?.spec?.holderIdentity === holder && after.spec.acquireTime === now) return 'acquired';
      return after ?? {};
    }
  }

  write(method: 'POST' | 'PUT', lease: RawLease): Promise<RawLease> {
    const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease };
    const path = method === 'POST' ? this.path.slice(0, this.path.lastIndexOf('/')) : this.path;
    const verb = method === 'POST' ? 'create' : 'update';
    return this.api.request<RawLease>({ ...this.op, verb }, { method, path, body });
  }

  async deleteIfHeldBy(holder: string): Promise<void> {
    const current = await this.read();
    if (current?.spec?.holderIdentity !== holder) return;
    const { uid, resourceVersion } = current.metadata ?? {};
    try {
      await this.api.request(
        { ...this.op, verb: 'delete' },
        {
          method: 'DELETE',
          path: this.path,
          body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid, resourceVersion } },
        },
      );
    } catch (error) {
      // Gone already, or renewed/taken over by someone else since we read it: not ours to delete.
      if (error instanceof KubeError && (error.status === 404 || error.status === 409)) return;
      throw error;
    }
  }
}

function hold(leases: Leases, holder: string, duration: number, renewEveryMs: number): KubeLockHandle {
  const { clock } = leases;
  const lost = new AbortController();
  const released = new AbortController();
  let lastRenewed = clock.now();
  // The lease as our last renewal wrote it: the next renewal is one conditional PUT, with a
  // read only when someone else wrote in between (409) or before the first renewal.
  let held: RawLease | undefined;
  const put = async (current: RawLease): Promise<RawLease> => {
    const spec = { ...current.spec, renewTime: microTime(clock.now()) };
    return leases.write('PUT', { metadata: current.metadata, spec });
  };
  const renew = async (): Promise<void> => {
    try {
      try {
        if (!held)
          throw new KubeError('no lease read yet', { status: 409, reason: 'Conflict', operation: leases.op });
        held = await put(held);
      } catch (error) {
        // 409: written by someone since; 404: deleted. Read it to tell.
        if (!(error instanceof KubeError) || (error.status !== 409 && error.status !== 404)) throw error;
        const current = await leases.read();
        if (current?.spec?.holderIdentity !== holder) {
          lost.abort(new Error(`Lease ${leases.op.namespace}/${leases.op.name} was taken over or deleted.`));
          return;
        }
        held = await put(current);
      }
      lastRenewed = clock.now();
    } catch {
      // Retried by the policy already; try again next period unless the lease has run out.
      if (clock.now() - lastRenewed > duration * 1000) {
        lost.abort(
          new Error(`Lease ${leases.op.namespace}/${leases.op.name} could not be renewed for ${duration} s.`),
        );
      }
    }
  };
  const stop = AbortSignal.any([lost.signal, released.signal]);
  const renewing = (async () => {
    for (;;) {
      await clock.sleep(renewEveryMs, stop);
      if (stop.aborted) return;
      await renew();
    }
  })();
  return {
    lost: lost.signal,
    async release(): Promise<void> {
      released.abort();
      await renewing;
      await leases.deleteIfHeldBy(holder);
    },
  };
}
