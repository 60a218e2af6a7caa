// The Cluster port on a real API server. Every call goes through one request layer (http.ts)
// and so through one retry policy; every failure is a KubeError naming the object.

import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, KubeObject, StatefulSetChange, StatefulSetRef } from '../../ports/cluster.ts';
import { systemClock } from '../system-clock.ts';
import { KubeError, type Operation } from './errors.ts';
import { gatherEvidence, readCrashLog } from './evidence.ts';
import { execInPod } from './exec.ts';
import { type Api, createApi } from './http.ts';
import { removeJobs, runJob } from './jobs.ts';
import { adoptTemplate, findOrphans, markRevisions } from './ownership.ts';
import { controllerRevisionsPath, createDiscovery, podsPath, statefulSetPath } from './paths.ts';
import { canI, proxyPod } from './proxy.ts';
import type { RetryEvent, RetryOptions } from './retry.ts';
import { isOwnedBy, observationCollector, selectorString, toRevisionInfo } from './translate.ts';
import type { RawControllerRevision, RawMeta, RawPod, RawStatefulSet } from './types.ts';
import { watchStatefulSet } from './watch/statefulset.ts';
import type { WatchStats } from './watch/stream.ts';

export interface ClusterOptions {
  readonly kubeConfig: KubeConfig;
  /** Server-side apply field manager; also recorded on our patches. */
  readonly fieldManager: string;
  /** Namespace for namespaced manifest objects that name none (default: the context's, else `default`). */
  readonly defaultNamespace?: string;
  readonly onRetry?: (event: RetryEvent) => void;
  /** Backoff tuning (tests); defaults are for production. */
  readonly retry?: Omit<RetryOptions, 'onRetry'>;
  /** Items per page of a list (tests; default LIST_PAGE). */
  readonly listPage?: number;
  /** The watch's reconnect backoff (default: the system clock). */
  readonly clock?: Clock;
  /** The run's secrets (credentials, tokens): masked in what a pod's log says before it is shown. */
  readonly secrets?: readonly string[];
}

interface ClusterStats {
  /** HTTP requests sent, retries and watch connections included. */
  readonly requests: number;
  /** Retries of failed calls (and 409 re-reads). */
  readonly retries: number;
  readonly watchConnects: number;
  /** Re-lists after 410 Gone. */
  readonly relists: number;
}

export interface KubernetesCluster extends Cluster {
  stats(): ClusterStats;
}

const applyPatch = 'application/apply-patch+yaml';
const mergePatch = 'application/merge-patch+json';
const strategicMergePatch = 'application/strategic-merge-patch+json';

/** Server-set fields that must not be sent back in an apply (resourceVersion would act as a precondition). */
const serverOwnedMeta = [
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
];

/** What every call of the adapter needs. */
interface Context {
  readonly api: Api;
  readonly fieldManager: string;
  readonly defaultNamespace: string;
  readonly discover: ReturnType<typeof createDiscovery>;
}

export function createCluster(options: ClusterOptions): KubernetesCluster {
  const api = createApi(options.kubeConfig, { ...options.retry, onRetry: options.onRetry }, options.listPage);
  const context: Context = {
    api,
    fieldManager: options.fieldManager,
    discover: createDiscovery(api),
    defaultNamespace:
      options.defaultNamespace ??
      (options.kubeConfig.getContextObject(options.kubeConfig.getCurrentContext())?.namespace || 'default'),
  };
  const watchStats: WatchStats = { connects: 0, relists: 0 };
  const clock = options.clock ?? systemClock;
  return {
    stats: () => ({
      requests: api.requests,
      retries: api.retrier.retries,
      watchConnects: watchStats.connects,
      relists: watchStats.relists,
    }),
    async observe(ref) {
      const sts = await getStatefulSet(api, ref);
      if (!sts) return undefined;
      const collector = observationCollector(sts);
      await api.list<RawPod>(
        { verb: 'list', kind: 'pods', namespace: ref.namespace },
        { path: podsPath(ref.namespace), query: { labelSelector: selectorString(sts.spec?.selector) } },
        collector.add,
      );
      return collector.observation();
    },
    watch: (ref, onChange, signal, watchOptions) =>
      watchStatefulSet({
        api,
        ref,
        onChange,
        signal,
        stats: watchStats,
        clock,
        pods: watchOptions?.pods ?? true,
      }),
    async apply(objects, applyOptions) {
      const applied: KubeObject[] = [];
      for (const object of objects) applied.push(await applyOne(context, object, applyOptions.dryRun));
      return applied;
    },
    read: (object) => readObject(context, object),
    patchStatefulSet: (ref, change) => patchStatefulSet(context, ref, change),
    deletePod: (ref, pod, uid) => deletePod(api, ref, pod, uid),
    orphans: (ref, selector) => findOrphans(api, ref, selector),
    evidence: (ref, pods) => gatherEvidence(api, ref.namespace, pods),
    crashLog: (ref, target) => readCrashLog(api, ref.namespace, target, options.secrets ?? []),
    proxyPod: (ref, pod, port, request) => proxyPod(api, ref.namespace, pod, port, request),
    canI: (namespace, verb, resource) => canI(api, namespace, verb, resource),
    exec: (request) => execInPod(api, request, options.secrets ?? []),
    runJob: (request) => runJob({ api, clock, stats: watchStats, secrets: options.secrets ?? [] }, request),
    removeJobs: (namespace, labels) => removeJobs(api, namespace, labels),
    async revisions(ref) {
      const sts = await requireStatefulSet(api, ref, 'list revisions of');
      const path = controllerRevisionsPath(ref.namespace);
      const owned = await listOwned<RawControllerRevision>(api, sts, 'ControllerRevisions', path);
      return owned.map((r) => toRevisionInfo(r, ref.name)).sort((a, b) => a.number - b.number);
    },
  };
}

const op = (verb: string, ref: StatefulSetRef): Operation => ({ verb, kind: 'StatefulSet', ...ref });

async function getStatefulSet(api: Api, ref: StatefulSetRef): Promise<RawStatefulSet | undefined> {
  try {
    return await api.request<RawStatefulSet>(op('get', ref), { method: 'GET', path: statefulSetPath(ref) });
  } catch (error) {
    if (error instanceof KubeError && error.status === 404) return undefined;
    throw error;
  }
}

async function requireStatefulSet(api: Api, ref: StatefulSetRef, verb: string): Promise<RawStatefulSet> {
  const sts = await getStatefulSet(api, ref);
  if (sts) return sts;
  throw new KubeError(`StatefulSet ${ref.namespace}/${ref.name} not found: check the name and namespace.`, {
    status: 404,
    reason: 'NotFound',
    operation: op(verb, ref),
  });
}

async function listOwned<T extends { readonly metadata?: RawMeta }>(
  api: Api,
  sts: RawStatefulSet,
  kind: string,
  path: string,
): Promise<T[]> {
  const namespace = sts.metadata?.namespace ?? '';
  const uid = sts.metadata?.uid ?? '';
  const owned: T[] = [];
  await api.list<T>(
    { verb: 'list', kind, namespace },
    { path, query: { labelSelector: selectorString(sts.spec?.selector) } },
    (item) => {
      if (isOwnedBy(item, uid)) owned.push(item);
    },
  );
  return owned;
}

async function readObject(context: Context, object: KubeObject): Promise<KubeObject | undefined> {
  const { api, defaultNamespace } = context;
  const resource = await context.discover(
    object.apiVersion,
    object.kind,
    object.metadata.namespace ?? defaultNamespace,
  );
  const namespace = resource.namespaced ? (object.metadata.namespace ?? defaultNamespace) : undefined;
  try {
    return await api.request<KubeObject>(
      { verb: 'get', kind: object.kind, namespace, name: object.metadata.name },
      { method: 'GET', path: `${resource.collection}/${encodeURIComponent(object.metadata.name)}` },
    );
  } catch (error) {
    if (error instanceof KubeError && error.status === 404) return undefined;
    throw error;
  }
}

async function applyOne(context: Context, object: KubeObject, dryRun: boolean): Promise<KubeObject> {
  const { api, defaultNamespace, fieldManager } = context;
  const { apiVersion, kind } = object;
  const resource = await context.discover(apiVersion, kind, object.metadata.namespace ?? defaultNamespace);
  const namespace = resource.namespaced ? (object.metadata.namespace ?? defaultNamespace) : undefined;
  const metadata: Record<string, unknown> = { ...object.metadata };
  for (const key of serverOwnedMeta) delete metadata[key];
  if (namespace) metadata.namespace = namespace;
  const { status: _status, ...rest } = object;
  return api.request<KubeObject>(
    { verb: dryRun ? 'apply (server-side dry-run)' : 'apply', kind, namespace, name: object.metadata.name },
    {
      method: 'PATCH',
      path: `${resource.collection}/${encodeURIComponent(object.metadata.name)}`,
      // Strict: a misspelt field is an error, not silently dropped.
      query: { fieldManager, force: true, fieldValidation: 'Strict', dryRun: dryRun ? 'All' : undefined },
      body: { ...rest, metadata },
      contentType: applyPatch,
    },
  );
}

async function patchStatefulSet(
  context: Context,
  ref: StatefulSetRef,
  change: StatefulSetChange,
): Promise<number> {
  const { api, fieldManager } = context;
  const patch: { metadata?: object; spec?: Record<string, unknown> } = {};
  if (change.annotations) patch.metadata = { annotations: change.annotations };
  let contentType = mergePatch;
  const restored = change.templateFromRevision;
  if (restored !== undefined) {
    // The revision's data is the controller's own strategic-merge patch of spec.template
    // with `$patch: replace` (what `kubectl rollout undo` sends), so the template comes back
    // exactly and the controller finds the same revision again.
    patch.spec = { ...(await revisionData(api, ref, restored)) };
    contentType = strategicMergePatch;
  }
  if (change.partition !== undefined) {
    patch.spec = { ...patch.spec, updateStrategy: { rollingUpdate: { partition: change.partition } } };
  }
  const patched = await api.request<RawStatefulSet>(op('patch', ref), {
    method: 'PATCH',
    path: statefulSetPath(ref),
    query: { fieldManager },
    body: patch,
    contentType,
  });
  if (restored !== undefined && change.restoredRevisionCause !== undefined) {
    await api.request(
      { verb: 'patch', kind: 'ControllerRevision', namespace: ref.namespace, name: restored },
      {
        method: 'PATCH',
        path: `${controllerRevisionsPath(ref.namespace)}/${encodeURIComponent(restored)}`,
        query: { fieldManager },
        body: { metadata: { annotations: { 'kubernetes.io/change-cause': change.restoredRevisionCause } } },
        contentType: mergePatch,
      },
    );
  }
  if (restored !== undefined) await adoptTemplate(api, ref, fieldManager);
  if (change.revisionFailures) await markRevisions(api, ref, fieldManager, change.revisionFailures);
  return patched.metadata?.generation ?? 0;
}

async function deletePod(api: Api, ref: StatefulSetRef, pod: string, uid: string): Promise<void> {
  try {
    await api.request(
      { verb: 'delete', kind: 'Pod', namespace: ref.namespace, name: pod },
      {
        method: 'DELETE',
        path: `${podsPath(ref.namespace)}/${encodeURIComponent(pod)}`,
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid } },
      },
    );
  } catch (error) {
    // 404: already gone. 409: the uid precondition failed, so the pod we meant is gone and a
    // new one (which we must not touch) carries its name. Either way no pod with `uid` exists.
    if (error instanceof KubeError && (error.status === 404 || error.status === 409)) return;
    throw error;
  }
}

/** The `spec` part of a ControllerRevision's data, checked to belong to this StatefulSet. */
async function revisionData(
  api: Api,
  ref: StatefulSetRef,
  revision: string,
): Promise<Record<string, unknown>> {
  const raw = await api.request<RawControllerRevision>(
    { verb: 'get', kind: 'ControllerRevision', namespace: ref.namespace, name: revision },
    { method: 'GET', path: `${controllerRevisionsPath(ref.namespace)}/${encodeURIComponent(revision)}` },
  );
  const spec = raw.data?.spec;
  const owned = raw.metadata?.ownerReferences?.some((o) => o.kind === 'StatefulSet' && o.name === ref.name);
  if (!spec?.template || !owned) {
    throw new KubeError(
      `ControllerRevision ${ref.namespace}/${revision} holds no pod template of StatefulSet ${ref.name}; ` +
        'pick one of the revisions `status` lists.',
      { status: 422, reason: 'Invalid', operation: { verb: 'restore', kind: 'ControllerRevision', ...ref } },
    );
  }
  return spec as Record<string, unknown>;
}
