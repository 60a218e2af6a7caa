// Keeps an in-memory view of one StatefulSet and its pods from two watches and hands the
// runner a fresh observation after every batch of events. This is the hot path: an event
// reaches onChange in the same turn of the event loop it arrives in (batched with setImmediate),
// and the request count depends only on how often the server ends a watch, not on replicas or
// elapsed time (no polling).
//
// client-node's `Watch` class streams one watch request; we use it rather than makeInformer
// because the informer restarts itself without telling us when it re-listed, reports errors
// only through events, and knows nothing of our retry policy. Here a watch that ends (server
// timeout, idle, dropped connection) resumes from the last resourceVersion seen (bookmarks keep
// it fresh), and only 410 Gone (an ERROR event) forces a re-list, after which we emit.
import { Watch } from '@kubernetes/client-node';
import type { Observation, PodObservation } from '../../engine/observation.ts';
import type { Clock } from '../../ports/clock.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { KubeError, type Operation } from './errors.ts';
import type { Api } from './http.ts';
import { podsPath, statefulSetsPath } from './paths.ts';
import { isOwnedBy, selectorString, toPodObservation, toStatefulSetObservation } from './translate.ts';
import type { RawList, RawMeta, RawPod, RawStatefulSet } from './types.ts';

export interface WatchStats {
  /** Watch requests opened (both resources). */
  connects: number;
  /** Re-lists after 410 Gone. */
  relists: number;
}

type StreamEnd = 'ended' | 'gone' | 'aborted';

/** One watched resource: where to watch it and how to fold its events into the view. */
interface Resource<T> {
  readonly operation: Operation;
  readonly path: string;
  readonly selector: Record<string, string>;
  resourceVersion: string;
  /** Replaces the view with a fresh list; returns its resourceVersion. */
  relist(): Promise<string>;
  apply(type: string, object: T): void;
}

// client-node gives up on a watch after 30 s without data; bookmarks arrive about once a
// minute, so that would cut every quiet watch. Dead connections still end by socket errors.
const idleTimeoutMs = 100_000;

export async function watchStatefulSet(
  api: Api,
  ref: StatefulSetRef,
  onChange: (observation: Observation) => void,
  signal: AbortSignal,
  stats: WatchStats,
  clock: Clock,
): Promise<void> {
  let statefulSet: RawStatefulSet | undefined;
  // Pods are kept translated: each pod event costs one translation, not one per pod per
  // event, and the raw objects (managedFields and all) are not retained.
  const pods = new Map<string, PodObservation>();
  const keep = (raw: RawPod): void => {
    const name = raw.metadata?.name ?? '';
    const owned = statefulSet?.metadata?.uid !== undefined && isOwnedBy(raw, statefulSet.metadata.uid);
    const translated = owned ? toPodObservation(raw, ref.name) : undefined;
    if (translated) pods.set(name, translated);
    else pods.delete(name);
  };
  let failure: unknown;
  let scheduled = false;
  const stopped = new AbortController();
  const stop = AbortSignal.any([signal, stopped.signal]);
  const fail = (error: unknown): void => {
    failure ??= error;
    stopped.abort();
  };

  const emit = (): void => {
    scheduled = false;
    if (stop.aborted || !statefulSet) return;
    try {
      const observed = [...pods.values()].sort((a, b) => a.ordinal - b.ordinal);
      onChange({ statefulSet: toStatefulSetObservation(statefulSet), pods: observed });
    } catch (error) {
      fail(error);
    }
  };
  const schedule = (): void => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(emit);
    }
  };

  const stsOp: Operation = { verb: 'watch', kind: 'StatefulSet', ...ref };
  const sts: Resource<RawStatefulSet> = {
    operation: stsOp,
    path: statefulSetsPath(ref.namespace),
    selector: { fieldSelector: `metadata.name=${ref.name}` },
    resourceVersion: '',
    async relist() {
      const list = await api.request<RawList<RawStatefulSet>>(
        { ...stsOp, verb: 'get' },
        { method: 'GET', path: this.path, query: this.selector },
        stop,
      );
      statefulSet = list.items?.[0];
      if (!statefulSet) throw notFound(ref);
      return list.metadata?.resourceVersion ?? '';
    },
    apply(type, object) {
      if (type === 'DELETED') fail(deleted(ref));
      else statefulSet = object;
    },
  };
  await sts.relist().then((rv) => {
    sts.resourceVersion = rv;
  });
  const labelSelector = selectorString(statefulSet?.spec?.selector);
  const podOp: Operation = { verb: 'watch', kind: 'pods', namespace: ref.namespace };
  const pod: Resource<RawPod> = {
    operation: podOp,
    path: podsPath(ref.namespace),
    selector: { labelSelector },
    resourceVersion: '',
    async relist() {
      const list = await api.request<RawList<RawPod>>(
        { ...podOp, verb: 'list' },
        { method: 'GET', path: this.path, query: this.selector },
        stop,
      );
      pods.clear();
      for (const item of list.items ?? []) keep(item);
      return list.metadata?.resourceVersion ?? '';
    },
    apply(type, object) {
      if (type === 'DELETED') pods.delete(object.metadata?.name ?? '');
      else keep(object);
    },
  };
  pod.resourceVersion = await pod.relist();
  emit();

  const loops = [sts, pod].map((resource) =>
    follow(api, resource as Resource<unknown>, schedule, stop, stats, clock).catch(fail),
  );
  await Promise.all(loops);
  if (failure !== undefined && !signal.aborted) throw failure;
}

function notFound(ref: StatefulSetRef): KubeError {
  return new KubeError(`StatefulSet ${ref.namespace}/${ref.name} not found, so it cannot be watched.`, {
    status: 404,
    reason: 'NotFound',
    operation: { verb: 'watch', kind: 'StatefulSet', ...ref },
  });
}

function deleted(ref: StatefulSetRef): KubeError {
  return new KubeError(
    `StatefulSet ${ref.namespace}/${ref.name} was deleted while the rollout was watching it. Someone else ` +
      'removed it: find out who before running again.',
    { status: 410, reason: 'Deleted', operation: { verb: 'watch', kind: 'StatefulSet', ...ref } },
  );
}

/** Watches one resource until `signal` aborts, resuming after every end and re-listing after 410. */
async function follow(
  api: Api,
  resource: Resource<unknown>,
  onEvent: () => void,
  signal: AbortSignal,
  stats: WatchStats,
  clock: Clock,
): Promise<void> {
  while (!signal.aborted) {
    const started = clock.now();
    const end = await api.retrier.run(
      resource.operation,
      () => streamOnce(api, resource, onEvent, signal, stats),
      signal,
    );
    if (end === 'aborted' || signal.aborted) return;
    if (end === 'gone') {
      stats.relists++;
      resource.resourceVersion = await resource.relist();
      onEvent();
    } else if (clock.now() - started < 1_000) {
      // A stream that ends as soon as it starts (a flapping proxy) must not become a busy loop.
      await clock.sleep(200 + Math.random() * 800, signal);
    }
  }
}

/**
 * One watch request. Resolves when the stream ends (cleanly, by a dropped connection, or with
 * 410 Gone); rejects only when it could not be opened, so the retry policy handles that case.
 */
function streamOnce(
  api: Api,
  resource: Resource<unknown>,
  onEvent: () => void,
  signal: AbortSignal,
  stats: WatchStats,
): Promise<StreamEnd> {
  const watcher = new Watch(api.kubeConfig);
  Object.assign(watcher, { requestTimeoutMs: idleTimeoutMs });
  stats.connects++;
  api.countRequest();
  return new Promise((resolve, reject) => {
    let opened = false;
    let gone = false;
    let controller: AbortController | undefined;
    // Resolve at once on abort, also while the watch is still opening: a proxy in front of the
    // API server may hold the response headers until the first event (a bookmark, a minute
    // later), and the caller must not wait for that. The open is aborted when it completes.
    const onAbort = (): void => {
      controller?.abort();
      resolve('aborted');
    };
    if (signal.aborted) {
      resolve('aborted');
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (error: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) resolve('aborted');
      else if (gone || (error as { statusCode?: unknown } | null)?.statusCode === 410) resolve('gone');
      else if (error && !opened) reject(error);
      else resolve('ended');
    };
    const onLine = (type: string, object: unknown): void => {
      opened = true;
      if (type === 'ERROR') {
        gone = (object as { code?: unknown } | null)?.code === 410;
        controller?.abort();
        return;
      }
      const rv = (object as { metadata?: RawMeta } | null)?.metadata?.resourceVersion;
      if (rv) resource.resourceVersion = rv;
      if (type === 'BOOKMARK') return;
      resource.apply(type, object);
      onEvent();
    };
    const query = {
      ...resource.selector,
      resourceVersion: resource.resourceVersion,
      allowWatchBookmarks: true,
      // Spread reconnects out, as client-go does, so many watchers do not end together.
      timeoutSeconds: 240 + Math.floor(Math.random() * 60),
    };
    watcher.watch(resource.path, query, onLine, done).then(
      (c) => {
        controller = c;
        opened = true;
        if (signal.aborted) c.abort();
      },
      (error: unknown) => done(error),
    );
  });
}
