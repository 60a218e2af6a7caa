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
import type { Observation, PodObservation } from '../../../engine/observation.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { StatefulSetRef } from '../../../ports/cluster.ts';
import { KubeError, type Operation } from '../errors.ts';
import type { Api } from '../http.ts';
import { podsPath, statefulSetsPath } from '../paths.ts';
import { isOwnedBy, selectorString, toPodObservation, toStatefulSetObservation } from '../translate.ts';
import type { RawList, RawMeta, RawPod, RawStatefulSet } from '../types.ts';

export interface WatchStats {
  /** Watch requests opened (both resources). */
  connects: number;
  /** Re-lists after 410 Gone. */
  relists: number;
}

export interface WatchOptions {
  readonly api: Api;
  readonly ref: StatefulSetRef;
  /** Called with a fresh observation after the first lists and after every batch of events. */
  readonly onChange: (observation: Observation) => void;
  /** Ends the watch; watchStatefulSet then resolves. */
  readonly signal: AbortSignal;
  readonly stats: WatchStats;
  /** The reconnect backoff's clock. */
  readonly clock: Clock;
}

type StreamEnd = 'ended' | 'gone' | 'aborted';

/** One watched resource: where to watch it and how to fold its events into the view. */
interface Resource {
  readonly operation: Operation;
  readonly path: string;
  readonly selector: Record<string, string>;
  resourceVersion: string;
  /** Replaces the view with a fresh list; returns its resourceVersion. */
  relist(): Promise<string>;
  apply(type: string, object: unknown): void;
}

/** The StatefulSet and its pods as the watches last saw them. */
interface View {
  statefulSet: RawStatefulSet | undefined;
  /** Keeps a pod the StatefulSet owns, translated; forgets one it does not (any more). */
  keep(raw: RawPod): void;
  forget(podName: string): void;
  forgetAll(): void;
  observation(): Observation | undefined;
}

// client-node gives up on a watch after 30 s without data; bookmarks arrive about once a
// minute, so that would cut every quiet watch. Dead connections still end by socket errors.
const idleTimeoutMs = 100_000;

/**
 * Watches `ref` and its pods until `signal` aborts (then resolves), or until the StatefulSet is
 * deleted or onChange throws (then rejects). Rejects at once if the StatefulSet does not exist.
 */
export async function watchStatefulSet(options: WatchOptions): Promise<void> {
  const { api, ref, onChange, signal } = options;
  let failure: unknown;
  const stopped = new AbortController();
  const stop = AbortSignal.any([signal, stopped.signal]);
  const fail = (error: unknown): void => {
    failure ??= error;
    stopped.abort();
  };
  const view = createView(ref);
  const emit = (): void => {
    if (stop.aborted) return;
    try {
      const observation = view.observation();
      if (observation !== undefined) onChange(observation);
    } catch (error) {
      fail(error);
    }
  };

  const sts = statefulSetResource(api, ref, view, stop, fail);
  sts.resourceVersion = await sts.relist();
  const pods = podResource(api, ref, view, stop);
  pods.resourceVersion = await pods.relist();
  emit();

  const onEvent = batched(emit);
  const follows = [sts, pods].map((resource) =>
    follow({ ...options, resource, onEvent, signal: stop }).catch(fail),
  );
  await Promise.all(follows);
  if (failure !== undefined && !signal.aborted) throw failure;
}

/** `run` once, soon, however often the result is called before then (setImmediate). */
function batched(run: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      run();
    });
  };
}

function createView(ref: StatefulSetRef): View {
  // Pods are kept translated: each pod event costs one translation, not one per pod per
  // event, and the raw objects (managedFields and all) are not retained.
  const pods = new Map<string, PodObservation>();
  const view: View = {
    statefulSet: undefined,
    keep(raw) {
      const name = raw.metadata?.name ?? '';
      const uid = view.statefulSet?.metadata?.uid;
      const translated =
        uid !== undefined && isOwnedBy(raw, uid) ? toPodObservation(raw, ref.name) : undefined;
      if (translated) pods.set(name, translated);
      else pods.delete(name);
    },
    forget: (podName) => pods.delete(podName),
    forgetAll: () => pods.clear(),
    observation() {
      if (!view.statefulSet) return undefined;
      const statefulSet = toStatefulSetObservation(view.statefulSet);
      // Indexed here, not when kept: the start ordinal is the StatefulSet's as seen now.
      const start = statefulSet.ordinalsStart;
      const observed = [...pods.values()]
        .map((p) => (p.index === p.ordinal - start ? p : { ...p, index: p.ordinal - start }))
        .sort((a, b) => a.ordinal - b.ordinal);
      return { statefulSet, pods: observed };
    },
  };
  return view;
}

/** The StatefulSet, by name; its deletion ends the watch with an error (through `fail`). */
function statefulSetResource(
  api: Api,
  ref: StatefulSetRef,
  view: View,
  signal: AbortSignal,
  fail: (error: unknown) => void,
): Resource {
  const operation: Operation = { verb: 'watch', kind: 'StatefulSet', ...ref };
  const path = statefulSetsPath(ref.namespace);
  const selector = { fieldSelector: `metadata.name=${ref.name}` };
  return {
    operation,
    path,
    selector,
    resourceVersion: '',
    async relist() {
      const list = await api.request<RawList<RawStatefulSet>>(
        { ...operation, verb: 'get' },
        { method: 'GET', path, query: selector },
        signal,
      );
      view.statefulSet = list.items?.[0];
      if (!view.statefulSet) throw notFound(ref);
      return list.metadata?.resourceVersion ?? '';
    },
    apply(type, object) {
      if (type === 'DELETED') fail(deleted(ref));
      else view.statefulSet = object as RawStatefulSet;
    },
  };
}

/** The pods the StatefulSet's selector matches (list it first: the selector comes from it). */
function podResource(api: Api, ref: StatefulSetRef, view: View, signal: AbortSignal): Resource {
  const operation: Operation = { verb: 'watch', kind: 'pods', namespace: ref.namespace };
  const path = podsPath(ref.namespace);
  const selector = { labelSelector: selectorString(view.statefulSet?.spec?.selector) };
  return {
    operation,
    path,
    selector,
    resourceVersion: '',
    async relist() {
      const list = await api.request<RawList<RawPod>>(
        { ...operation, verb: 'list' },
        { method: 'GET', path, query: selector },
        signal,
      );
      view.forgetAll();
      for (const item of list.items ?? []) view.keep(item);
      return list.metadata?.resourceVersion ?? '';
    },
    apply(type, object) {
      const pod = object as RawPod;
      if (type === 'DELETED') view.forget(pod.metadata?.name ?? '');
      else view.keep(pod);
    },
  };
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

interface FollowOptions {
  readonly api: Api;
  readonly resource: Resource;
  /** Called after every event applied to the view, and after a re-list. */
  readonly onEvent: () => void;
  readonly signal: AbortSignal;
  readonly stats: WatchStats;
  readonly clock: Clock;
}

/** Watches one resource until `signal` aborts, resuming after every end and re-listing after 410. */
async function follow(options: FollowOptions): Promise<void> {
  const { api, resource, onEvent, signal, stats, clock } = options;
  while (!signal.aborted) {
    const started = clock.now();
    const end = await api.retrier.run(resource.operation, () => streamOnce(options), signal);
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

function watchQuery(resource: Resource): Record<string, string | number | boolean> {
  return {
    ...resource.selector,
    resourceVersion: resource.resourceVersion,
    allowWatchBookmarks: true,
    // Spread reconnects out, as client-go does, so many watchers do not end together.
    timeoutSeconds: 240 + Math.floor(Math.random() * 60),
  };
}

/**
 * One watch request. Resolves when the stream ends (cleanly, by a dropped connection, or with
 * 410 Gone); rejects only when it could not be opened, so the retry policy handles that case.
 */
function streamOnce(options: FollowOptions): Promise<StreamEnd> {
  const { api, resource, onEvent, signal, stats } = options;
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
    watcher.watch(resource.path, watchQuery(resource), onLine, done).then(
      (c) => {
        controller = c;
        opened = true;
        if (signal.aborted) c.abort();
      },
      (error: unknown) => done(error),
    );
  });
}
