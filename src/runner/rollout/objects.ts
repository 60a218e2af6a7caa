// Small, pure helpers over manifest objects that the runner needs.
import type { KubeObject, LabelSelector, StatefulSetRef } from '../../ports/cluster.ts';

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

export function refOf(object: KubeObject): StatefulSetRef {
  return { namespace: object.metadata.namespace ?? 'default', name: object.metadata.name };
}

/** `spec.replicas` as the manifest sets it; undefined when it leaves it out (an autoscaler owns it). */
export function replicasOf(object: KubeObject): number | undefined {
  const replicas = record(object.spec).replicas;
  return typeof replicas === 'number' ? replicas : undefined;
}

/** `spec.updateStrategy.rollingUpdate.maxUnavailable` of an object (a dry-run's: as the API server keeps it). */
export function maxUnavailableOf(object: KubeObject): number | string | undefined {
  const value = record(record(record(object.spec).updateStrategy).rollingUpdate).maxUnavailable;
  return typeof value === 'number' || typeof value === 'string' ? value : undefined;
}

export function selectorOf(object: KubeObject): LabelSelector {
  return record(object.spec).selector as LabelSelector;
}

export function templateOf(object: KubeObject): unknown {
  return record(object.spec).template;
}

/** Images of the pod template's containers (and init containers), by container name. */
export function templateImages(template: unknown): Record<string, string> {
  const spec = record(record(template).spec);
  const images: Record<string, string> = {};
  for (const list of [spec.initContainers, spec.containers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      const { name, image } = record(c);
      if (typeof name === 'string' && typeof image === 'string') images[name] = image;
    }
  }
  return images;
}

/** Container port names of a pod template, to their numbers. */
export function portsOf(template: unknown): Record<string, number> {
  const spec = (
    template as { spec?: { containers?: { ports?: { name?: string; containerPort?: number }[] }[] } }
  )?.spec;
  const ports: Record<string, number> = {};
  for (const c of spec?.containers ?? []) {
    for (const p of c.ports ?? [])
      if (p.name && typeof p.containerPort === 'number') ports[p.name] = p.containerPort;
  }
  return ports;
}

/** The names of a pod template's containers, in order (the first is where an exec runs by default). */
export function containersOf(template: unknown): string[] {
  const spec = (template as { spec?: { containers?: { name?: string }[] } })?.spec;
  return (spec?.containers ?? []).map((c) => c.name ?? '').filter((n) => n !== '');
}

/**
 * The StatefulSet as we apply it: RollingUpdate with the partition we intend already in
 * the object (server-side apply would otherwise drop a partition we set before), plus annotations.
 */
export function withPartition(
  object: KubeObject,
  partition: number,
  annotations: Readonly<Record<string, string>> = {},
  extra: { readonly replicas?: number | undefined; readonly template?: unknown } = {},
): KubeObject {
  const spec = { ...record(object.spec) };
  if (extra.replicas !== undefined) spec.replicas = extra.replicas;
  if (extra.template !== undefined) spec.template = extra.template;
  const strategy = record(spec.updateStrategy);
  const rollingUpdate = { ...record(strategy.rollingUpdate), partition };
  return {
    ...object,
    metadata: { ...object.metadata, annotations: { ...record(object.metadata.annotations), ...annotations } },
    spec: { ...spec, updateStrategy: { ...strategy, type: 'RollingUpdate', rollingUpdate } },
  };
}

/** A StatefulSet manifest, and the same object as the API server's dry-run returned it (defaulted). */
export interface Manifest {
  readonly object: KubeObject;
  readonly dryRun: KubeObject;
}
