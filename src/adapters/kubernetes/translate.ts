// Kubernetes objects -> the engine's observations. Pure: the same functions serve GET/LIST
// responses and watch events, which both arrive as plain JSON.
import type {
  ContainerObservation,
  Observation,
  PodObservation,
  RevisionInfo,
  StatefulSetObservation,
} from '../../engine/observation.ts';
import type {
  RawContainer,
  RawContainerStatus,
  RawControllerRevision,
  RawLabelSelector,
  RawManagedFields,
  RawMeta,
  RawPod,
  RawPodTemplate,
  RawStatefulSet,
} from './types.ts';

export const revisionLabel = 'controller-revision-hash';
const changeCauseAnnotation = 'kubernetes.io/change-cause';
/** On a ControllerRevision: why a rollout of it failed its canary (a later rollback skips it). */
export const failedAnnotation = 'statefulset-canary.io/failed';

/** Images by container name (init containers included: names are unique within a pod). */
function rawTemplateImages(template: RawPodTemplate | undefined): Record<string, string> {
  const images: Record<string, string> = {};
  const spec = template?.spec;
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    if (c.name) images[c.name] = c.image ?? '';
  }
  return images;
}

export function toStatefulSetObservation(raw: RawStatefulSet): StatefulSetObservation {
  const meta = raw.metadata ?? {};
  const spec = raw.spec ?? {};
  const status = raw.status ?? {};
  return {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    resourceVersion: meta.resourceVersion ?? '',
    generation: meta.generation ?? 0,
    observedGeneration: status.observedGeneration ?? 0,
    replicas: spec.replicas ?? 1,
    ordinalsStart: spec.ordinals?.start ?? 0,
    partition: spec.updateStrategy?.rollingUpdate?.partition ?? 0,
    maxUnavailable: spec.updateStrategy?.rollingUpdate?.maxUnavailable,
    partitionManager: ownerOf(meta.managedFields, PARTITION_PATH),
    partitionOwners: reapplyingOwners(meta, PARTITION_PATH),
    updateStrategy: spec.updateStrategy?.type ?? 'RollingUpdate',
    podManagementPolicy: spec.podManagementPolicy ?? 'OrderedReady',
    minReadySeconds: spec.minReadySeconds ?? 0,
    currentRevision: status.currentRevision ?? '',
    updateRevision: status.updateRevision ?? '',
    readyReplicas: status.readyReplicas ?? 0,
    updatedReplicas: status.updatedReplicas ?? 0,
    availableReplicas: status.availableReplicas ?? 0,
    annotations: { ...(meta.annotations ?? {}) },
    images: rawTemplateImages(spec.template),
    template: spec.template,
  };
}

const PARTITION_PATH = ['f:spec', 'f:updateStrategy', 'f:rollingUpdate', 'f:partition'];

/**
 * The managers of the field at `path` that will write it again: server-side appliers (an Apply
 * entry: Argo CD with ServerSideApply, Flux, kubectl --server-side) own only what their manifests
 * set, and client-side appliers (kubectl apply, Argo CD without ServerSideApply) set it again when
 * their last-applied configuration has it. A manager that only created the object, or patched the
 * field once (an Update), owns the field without setting it again: this action takes it over.
 */
function reapplyingOwners(meta: RawMeta, path: readonly string[]): string[] {
  const lastApplied = meta.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? '';
  const leaf = (path[path.length - 1] ?? '').replace(/^f:/, '');
  const owners = new Set<string>();
  for (const entry of meta.managedFields ?? []) {
    let node: unknown = entry.fieldsV1;
    for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
    if (node === undefined || !entry.manager || entry.subresource) continue;
    const clientSide = entry.operation === 'Update' && lastApplied.includes(`"${leaf}"`);
    if (entry.operation === 'Apply' || clientSide) owners.add(entry.manager);
  }
  return [...owners];
}

/** The manager that most recently wrote the field at `path` (a managedFields fieldsV1 path). */
function ownerOf(
  entries: readonly RawManagedFields[] | undefined,
  path: readonly string[],
): string | undefined {
  let owner: RawManagedFields | undefined;
  for (const entry of entries ?? []) {
    let node: unknown = entry.fieldsV1;
    for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
    if (node === undefined) continue;
    if (!owner || (entry.time ?? '') >= (owner.time ?? '')) owner = entry;
  }
  return owner?.manager;
}

/** `db-12` of StatefulSet `db` -> 12; undefined for a name that is not `<sts>-<n>`. */
export function podOrdinal(podName: string, statefulSetName: string): number | undefined {
  const prefix = `${statefulSetName}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const suffix = podName.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(suffix) ? Number(suffix) : undefined;
}

export function isOwnedBy(object: { readonly metadata?: RawMeta }, ownerUid: string): boolean {
  return (object.metadata?.ownerReferences ?? []).some(
    (ref) => ref.uid === ownerUid && ref.controller !== false,
  );
}

function toContainer(spec: RawContainer, status: RawContainerStatus | undefined): ContainerObservation {
  return {
    name: spec.name ?? '',
    image: spec.image ?? '',
    ready: status?.ready ?? false,
    restartCount: status?.restartCount ?? 0,
    waitingReason: status?.state?.waiting?.reason,
    waitingMessage: status?.state?.waiting?.message,
    lastTerminationReason: status?.lastState?.terminated?.reason,
    lastTerminationMessage: status?.lastState?.terminated?.message,
  };
}

/**
 * Containers from the pod spec (so a pod not yet started still lists them) joined with their
 * status. Init containers are listed only while they matter: not yet finished successfully
 * (an init container in CrashLoopBackOff must fail the stage like any other).
 */
function podContainers(raw: RawPod): ContainerObservation[] {
  const statuses = raw.status?.containerStatuses ?? [];
  const initStatuses = raw.status?.initContainerStatuses ?? [];
  const init = (raw.spec?.initContainers ?? [])
    .map((c) =>
      toContainer(
        c,
        initStatuses.find((s) => s.name === c.name),
      ),
    )
    .filter((c) => {
      const status = initStatuses.find((s) => s.name === c.name);
      return status?.state?.terminated?.exitCode !== 0;
    });
  const main = (raw.spec?.containers ?? []).map((c) =>
    toContainer(
      c,
      statuses.find((s) => s.name === c.name),
    ),
  );
  return [...init, ...main];
}

/** A pod of StatefulSet `statefulSetName`, whose pods start at ordinal `ordinalsStart`. */
export function toPodObservation(
  raw: RawPod,
  statefulSetName: string,
  ordinalsStart = 0,
): PodObservation | undefined {
  const name = raw.metadata?.name ?? '';
  const ordinal = podOrdinal(name, statefulSetName);
  if (ordinal === undefined) return undefined;
  const readyCondition = (raw.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const ready = readyCondition?.status === 'True';
  const since =
    ready && readyCondition?.lastTransitionTime ? Date.parse(readyCondition.lastTransitionTime) : NaN;
  return {
    name,
    ordinal,
    index: ordinal - ordinalsStart,
    uid: raw.metadata?.uid ?? '',
    revision: raw.metadata?.labels?.[revisionLabel] ?? '',
    labels: { ...raw.metadata?.labels },
    phase: raw.status?.phase ?? 'Pending',
    ready,
    readySince: Number.isNaN(since) ? undefined : since,
    deleting: raw.metadata?.deletionTimestamp !== undefined,
    containers: podContainers(raw),
  };
}

/** The StatefulSet with the pods it owns (by controller uid), by ordinal. */
export function toObservation(statefulSet: RawStatefulSet, pods: Iterable<RawPod>): Observation {
  const collector = observationCollector(statefulSet);
  for (const pod of pods) collector.add(pod);
  return collector.observation();
}

/**
 * The observation of `statefulSet`, collected a pod at a time as a list's pages arrive: each pod
 * is translated as it comes, so a list of 1000 pods never holds the raw ones (managedFields and
 * all, several times the translation's size) at once.
 */
export function observationCollector(statefulSet: RawStatefulSet): {
  readonly add: (pod: RawPod) => void;
  readonly observation: () => Observation;
} {
  const sts = toStatefulSetObservation(statefulSet);
  const observed: PodObservation[] = [];
  return {
    add(pod) {
      if (!isOwnedBy(pod, sts.uid)) return;
      const translated = toPodObservation(pod, sts.name, sts.ordinalsStart);
      if (translated) observed.push(translated);
    },
    observation: () => ({ statefulSet: sts, pods: observed.sort((a, b) => a.ordinal - b.ordinal) }),
  };
}

/** A LabelSelector in the `labelSelector` query syntax. */
export function selectorString(selector: RawLabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        throw new Error(`Unknown label selector operator "${e.operator}" for key "${e.key}".`);
    }
  }
  return parts.join(',');
}

/**
 * The controller names a revision `<sts>-<hash>` and labels pods with the same `<hash>`;
 * the hash is taken from the name rather than recomputed.
 */
export function toRevisionInfo(raw: RawControllerRevision, statefulSetName: string): RevisionInfo {
  const name = raw.metadata?.name ?? '';
  const prefix = `${statefulSetName}-`;
  return {
    name,
    hash: name.startsWith(prefix) ? name.slice(prefix.length) : name,
    number: raw.revision ?? 0,
    changeCause: raw.metadata?.annotations?.[changeCauseAnnotation],
    images: rawTemplateImages(raw.data?.spec?.template),
    failed: raw.metadata?.annotations?.[failedAnnotation],
  };
}
