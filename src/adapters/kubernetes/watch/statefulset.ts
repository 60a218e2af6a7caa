// Keeps an in-memory view of one StatefulSet and its pods from two watches (or the StatefulSet
// alone, from one, for a wait on its status) and hands the
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
import type { Observation } from '../../../engine/observation.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { StatefulSetRef } from '../../../ports/cluster.ts';
import type { Api } from '../http.ts';
import { podResource, statefulSetResource } from './resources.ts';
import { follow, type WatchStats } from './stream.ts';
import { createView } from './view.ts';

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
  /** Whether the pods are watched too; without, observations carry none. */
  readonly pods: boolean;
}

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
  const resources = [sts];
  if (options.pods) {
    const pods = podResource(api, ref, view, stop);
    pods.resourceVersion = await pods.relist();
    resources.push(pods);
  }
  emit();

  const onEvent = batched(emit);
  const follows = resources.map((resource) =>
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
