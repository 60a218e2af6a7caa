// The script a ScriptedCluster replays, and what it records: the writes the runner makes
// through the Cluster port, the changes a "controller" makes in reply, and small queries over
// the recorded writes (which partition a write sets, which phase it records).
import type { Observation, PodObservation, StatefulSetObservation } from '../../../src/engine/observation.ts';
import { ANNOTATION_PREFIX } from '../../../src/engine/state.ts';
import type { KubeObject, StatefulSetChange } from '../../../src/ports/cluster.ts';

export type Write =
  | { readonly kind: 'apply'; readonly at: number; readonly dryRun: boolean; readonly objects: KubeObject[] }
  | { readonly kind: 'patch'; readonly at: number; readonly change: StatefulSetChange }
  | { readonly kind: 'delete-pod'; readonly at: number; readonly pod: string; readonly uid: string };

/** A change to the state: StatefulSet fields, and pods replaced or added (by ordinal) or removed. */
export interface Change {
  readonly statefulSet?: Partial<StatefulSetObservation>;
  readonly pods?: readonly PodObservation[];
  readonly removePods?: readonly number[];
}

export type Reply = Change | ((current: Observation, write: Write) => Change);

/** One scripted step: what the controller does after the write it matches. */
export interface Reaction {
  readonly description: string;
  matches(write: Write): boolean;
  readonly reply: Reply;
}

/** After the StatefulSet is applied for real (not a dry-run). */
export function afterApply(reply: Reply): Reaction {
  return {
    description: 'apply of the StatefulSet',
    matches: (w) => w.kind === 'apply' && !w.dryRun && w.objects.some((o) => o.kind === 'StatefulSet'),
    reply,
  };
}

/** After a patch that sets the partition to `partition`. */
export function afterPartition(partition: number, reply: Reply): Reaction {
  return {
    description: `partition ${partition}`,
    matches: (w) => w.kind === 'patch' && w.change.partition === partition,
    reply,
  };
}

/** After a patch that restores the template of ControllerRevision `revision`. */
export function afterTemplateRestore(revision: string, reply: Reply): Reaction {
  return {
    description: `template restore from ${revision}`,
    matches: (w) => w.kind === 'patch' && w.change.templateFromRevision === revision,
    reply,
  };
}

/** After pod `pod` is deleted. */
export function afterDelete(pod: string, reply: Reply): Reaction {
  return { description: `delete of ${pod}`, matches: (w) => w.kind === 'delete-pod' && w.pod === pod, reply };
}

/** The partition a write sets, if it sets one (apply of a StatefulSet, or a patch). */
export function partitionOf(write: Write): number | undefined {
  if (write.kind === 'patch') return write.change.partition;
  if (write.kind !== 'apply' || write.dryRun) return undefined;
  const sts = write.objects.find((o) => o.kind === 'StatefulSet');
  return sts ? specOf(sts).updateStrategy?.rollingUpdate?.partition : undefined;
}

/** Phase and stage a patch records in the progress annotations, if it records them. */
export function progressOf(write: Write): [string | null | undefined, string | null | undefined] | undefined {
  if (write.kind !== 'patch' || write.change.annotations === undefined) return undefined;
  const annotations = write.change.annotations;
  return [annotations[`${ANNOTATION_PREFIX}phase`], annotations[`${ANNOTATION_PREFIX}stage`]];
}

/** The partitions the writes set, in order (the freezing apply included). */
export function partitionsIn(writes: readonly Write[]): number[] {
  return writes.map(partitionOf).filter((p): p is number => p !== undefined);
}

export interface StatefulSetSpec {
  readonly replicas?: number;
  readonly minReadySeconds?: number;
  readonly template?: unknown;
  readonly updateStrategy?: { readonly rollingUpdate?: { readonly partition?: number } };
}

export function specOf(object: KubeObject): StatefulSetSpec {
  return (object.spec ?? {}) as StatefulSetSpec;
}
