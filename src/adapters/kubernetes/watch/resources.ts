// The two watched resources, the StatefulSet (by name) and its pods (by its selector): where
// each is listed and watched, and how its events fold into the view.
import type { StatefulSetRef } from '../../../ports/cluster.ts';
import { KubeError, type Operation } from '../errors.ts';
import type { Api } from '../http.ts';
import { podsPath, statefulSetsPath } from '../paths.ts';
import { selectorString } from '../translate.ts';
import type { RawList, RawPod, RawStatefulSet } from '../types.ts';
import type { View } from './view.ts';

/** One watched resource: where to watch it and how to fold its events into the view. */
export interface Resource {
  readonly operation: Operation;
  readonly path: string;
  readonly selector: Record<string, string>;
  resourceVersion: string;
  /** Replaces the view with a fresh list; returns its resourceVersion. */
  relist(): Promise<string>;
  apply(type: string, object: unknown): void;
}

/** The StatefulSet, by name; its deletion ends the watch with an error (through `fail`). */
export function statefulSetResource(
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
export function podResource(api: Api, ref: StatefulSetRef, view: View, signal: AbortSignal): Resource {
  const operation: Operation = { verb: 'watch', kind: 'pods', namespace: ref.namespace };
  const path = podsPath(ref.namespace);
  const selector = { labelSelector: selectorString(view.statefulSet?.spec?.selector) };
  return {
    operation,
    path,
    selector,
    resourceVersion: '',
    relist() {
      view.forgetAll();
      return api.list<RawPod>({ ...operation, verb: 'list' }, { path, query: selector }, view.keep, signal);
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
