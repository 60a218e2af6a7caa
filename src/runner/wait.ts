// Waiting on the StatefulSet controller by watch: until an observation is acceptable, or until
// the controller has observed the latest generation (and, if asked, a given updateRevision).
import { generationObserved } from '../engine/health.ts';
import type { Observation, StatefulSetObservation } from '../engine/observation.ts';
import type { StatefulSetRef, WatchOptions } from '../ports/cluster.ts';
import type { RunDeps } from './run.ts';

/**
 * Watches the StatefulSet until `accept` takes an observation, `timeoutMs` passes (on the Clock
 * port, so a fake clock can expire it) or `signal` aborts. Returns what it took, and the last
 * observation seen (for a message when nothing was taken).
 */
export async function watchUntil(
  deps: RunDeps,
  ref: StatefulSetRef,
  accept: (observation: Observation) => boolean,
  signal: AbortSignal,
  timeoutMs: number,
  watchOptions?: WatchOptions,
): Promise<{ found: Observation | undefined; latest: Observation | undefined }> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let found: Observation | undefined;
  let latest: Observation | undefined;
  const deadline = deps.clock.sleep(timeoutMs, stop.signal).then(() => stop.abort());
  try {
    const onChange = (observation: Observation) => {
      latest = observation;
      if (!accept(observation)) return;
      found = observation;
      stop.abort();
    };
    await deps.cluster.watch(ref, onChange, stop.signal, watchOptions);
  } finally {
    stop.abort();
    await deadline;
    signal.removeEventListener('abort', onAbort);
  }
  return { found, latest };
}

/**
 * Waits (by watch) until the controller has observed the latest generation, and, when
 * `revision` is given, points updateRevision at it. Returns the StatefulSet as then observed
 * (its pods are not watched: the wait is on its status alone).
 */
export async function waitForRevision(
  deps: RunDeps,
  ref: StatefulSetRef,
  revision: string | undefined,
  signal: AbortSignal,
  timeoutMs = 120_000,
): Promise<StatefulSetObservation> {
  const accept = (o: Observation) =>
    generationObserved(o) && (revision === undefined || o.statefulSet.updateRevision === revision);
  const { found } = await watchUntil(deps, ref, accept, signal, timeoutMs, { pods: false });
  if (found) return found.statefulSet;
  if (signal.aborted)
    throw new Error(`cancelled while waiting for the controller to observe ${ref.namespace}/${ref.name}`);
  const what = revision ? ` and set updateRevision to ${revision}` : '';
  throw new Error(
    `the StatefulSet controller did not observe ${ref.namespace}/${ref.name}${what} within ${timeoutMs / 1000} s: ` +
      'check that kube-controller-manager is running and healthy',
  );
}
