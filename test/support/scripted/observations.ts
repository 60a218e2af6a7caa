// Builders for what the runner sees of a StatefulSet (src/engine/observation.ts) and for the
// manifest it rolls out, so runner tests read as "5 replicas on web-5f6c7d, partition 0".
// Pods carry the ControllerRevision's full name as their revision, as the label does.
import type {
  ContainerObservation,
  PodObservation,
  RevisionInfo,
  StatefulSetObservation,
} from '../../../src/engine/observation.ts';
import type { KubeObject } from '../../../src/ports/cluster.ts';

export const NAMESPACE = 'shop';
export const NAME = 'web';

/** The pod template of `image`, exactly as `manifest` writes it. */
export function template(image: string): Record<string, unknown> {
  return {
    metadata: { labels: { app: NAME } },
    spec: { containers: [{ name: 'app', image }] },
  };
}

/** Images of a template's containers, by container name. */
export function imagesOf(podTemplate: unknown): Record<string, string> {
  const spec = (podTemplate as { spec?: { containers?: { name: string; image: string }[] } }).spec;
  return Object.fromEntries((spec?.containers ?? []).map((c) => [c.name, c.image]));
}

/** A StatefulSet manifest as users write it: no updateStrategy, no partition. */
export function manifest(image: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { app: NAME } },
    spec: {
      replicas,
      serviceName: NAME,
      selector: { matchLabels: { app: NAME } },
      template: template(image),
    },
  };
}

export interface StatefulSetOptions {
  readonly replicas: number;
  readonly partition?: number;
  readonly currentRevision: string;
  /** Default: currentRevision. */
  readonly updateRevision?: string;
  readonly image?: string;
  readonly annotations?: Record<string, string>;
  readonly minReadySeconds?: number;
  /** `spec.ordinals.start` (default 0); pods built by `pod()` take their index from `PodOptions.ordinalsStart`. */
  readonly ordinalsStart?: number;
  readonly generation?: number;
  /** Default: generation (the controller has seen the latest spec). */
  readonly observedGeneration?: number;
}

/** A StatefulSet observation; the replica counts are left for the pods to decide (ScriptedCluster counts them). */
export function statefulSet(o: StatefulSetOptions): StatefulSetObservation {
  const podTemplate = template(o.image ?? 'registry.local/web:v1');
  const generation = o.generation ?? 1;
  return {
    namespace: NAMESPACE,
    name: NAME,
    uid: 'sts-uid',
    resourceVersion: '1',
    generation,
    observedGeneration: o.observedGeneration ?? generation,
    replicas: o.replicas,
    ordinalsStart: o.ordinalsStart ?? 0,
    partition: o.partition ?? 0,
    updateStrategy: 'RollingUpdate',
    podManagementPolicy: 'OrderedReady',
    minReadySeconds: o.minReadySeconds ?? 0,
    currentRevision: o.currentRevision,
    updateRevision: o.updateRevision ?? o.currentRevision,
    readyReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
    annotations: o.annotations ?? {},
    images: imagesOf(podTemplate),
    template: podTemplate,
  };
}

export interface PodOptions {
  /** Condition Ready is True (default true). */
  readonly ready?: boolean;
  /** When Ready became True (default 0, long ago); ignored when not ready. */
  readonly readySince?: number;
  readonly phase?: string;
  readonly waitingReason?: string;
  readonly waitingMessage?: string;
  readonly restartCount?: number;
  /** Default: `<pod>@<revision>`, so a pod recreated on another revision is another pod. */
  readonly uid?: string;
  readonly deleting?: boolean;
  /** The StatefulSet's `spec.ordinals.start` (default 0): the pod's index is `ordinal - ordinalsStart`. */
  readonly ordinalsStart?: number;
  /** The pod's labels (a role label); default none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Pod `web-<ordinal>` on `revision`, Running and Ready unless told otherwise. */
export function pod(ordinal: number, revision: string, o: PodOptions = {}): PodObservation {
  const name = `${NAME}-${ordinal}`;
  const ready = o.ready ?? true;
  const container: ContainerObservation = {
    name: 'app',
    image: 'registry.local/web',
    ready,
    restartCount: o.restartCount ?? 0,
    waitingReason: o.waitingReason,
    waitingMessage: o.waitingMessage,
    lastTerminationReason: o.restartCount ? 'Error' : undefined,
    lastTerminationMessage: undefined,
  };
  return {
    name,
    ordinal,
    index: ordinal - (o.ordinalsStart ?? 0),
    uid: o.uid ?? `${name}@${revision}`,
    revision,
    ...(o.labels ? { labels: { ...o.labels } } : {}),
    phase: o.phase ?? 'Running',
    ready,
    readySince: ready ? (o.readySince ?? 0) : undefined,
    deleting: o.deleting ?? false,
    containers: [container],
  };
}

/** Pods with ordinals `from` to `to - 1`, all on `revision`. */
export function pods(from: number, to: number, revision: string, o: PodOptions = {}): PodObservation[] {
  const list: PodObservation[] = [];
  for (let ordinal = from; ordinal < to; ordinal++) list.push(pod(ordinal, revision, o));
  return list;
}

/** A ControllerRevision as `kubectl rollout history` lists it. */
export function revision(name: string, number: number, image: string): RevisionInfo {
  return {
    name,
    hash: name.slice(NAME.length + 1),
    number,
    changeCause: undefined,
    images: { app: image },
  };
}
