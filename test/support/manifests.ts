// The StatefulSet manifest the integration tests roll out, as users write it: no
// updateStrategy, so no partition (the action must canary it all the same; see the design
// notes on server-side apply). One builder instead of a `manifest()` helper per test file.
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { KubeObject } from '../../src/ports/cluster.ts';
import { type StatefulSetOptions, statefulSet } from '../cluster/harness.ts';

export interface CanaryManifestOptions {
  /** Default `db`. */
  readonly name?: string;
  /** Default `registry.local/db:v1`. */
  readonly image?: string;
  /** Default 5: stages 1, 50%, 100% are partitions 4, 2, 0. */
  readonly replicas?: number;
  /**
   * Writes `spec.updateStrategy` (RollingUpdate with this partition), as the harness does.
   * Default: no updateStrategy at all.
   */
  readonly partition?: number;
  /** Pod template annotations (the kubelet stand-in's, e.g. ready-after, termination message). */
  readonly podAnnotations?: Record<string, string>;
  /** The StatefulSet's own annotations (metadata.annotations), e.g. kubernetes.io/change-cause. */
  readonly annotations?: Record<string, string>;
  readonly revisionHistoryLimit?: number;
  /** Pod template terminationGracePeriodSeconds (the harness's default is 30). */
  readonly terminationGracePeriodSeconds?: number;
  readonly minReadySeconds?: number;
  readonly podManagementPolicy?: StatefulSetOptions['podManagementPolicy'];
  /** `spec.ordinals.start`: pods are `<name>-<start>` .. `<name>-<start+replicas-1>`. */
  readonly ordinalsStart?: number;
}

/** A StatefulSet (label app=<name>, one container `app`) for a canary rollout test. */
export function canaryManifest(options: CanaryManifestOptions = {}): V1StatefulSet {
  const { annotations, revisionHistoryLimit, terminationGracePeriodSeconds } = options;
  const sts = statefulSet({
    ...options,
    name: options.name ?? 'db',
    image: options.image ?? 'registry.local/db:v1',
    replicas: options.replicas ?? 5,
  });
  const spec = sts.spec!;
  if (options.partition === undefined) delete spec.updateStrategy;
  if (annotations !== undefined) sts.metadata = { ...sts.metadata, annotations };
  if (revisionHistoryLimit !== undefined) spec.revisionHistoryLimit = revisionHistoryLimit;
  if (options.ordinalsStart !== undefined) spec.ordinals = { start: options.ordinalsStart };
  if (terminationGracePeriodSeconds !== undefined) {
    spec.template.spec = { ...spec.template.spec!, terminationGracePeriodSeconds };
  }
  return sts;
}

/** canaryManifest as the object the Cluster port applies (what the manifest loader hands it). */
export function canaryObject(options: CanaryManifestOptions = {}): KubeObject {
  return canaryManifest(options) as KubeObject;
}

/**
 * What anyone but the StatefulSet controller could have changed: the spec (its generation),
 * the labels and annotations (where the action records its state), and the owner of each
 * field. "Nothing changed" compares these, not resourceVersion: the controller writes
 * status on its own schedule (a pod that becomes Ready or available, a revision counted),
 * so a resourceVersion read a moment apart can differ with nothing changed by the action.
 */
export function untouched(sts: V1StatefulSet) {
  const { generation, labels, annotations, managedFields = [] } = sts.metadata ?? {};
  return {
    generation,
    labels,
    annotations,
    managers: managedFields
      .filter((f) => f.subresource !== 'status')
      .map((f) => `${f.manager} ${f.operation} ${JSON.stringify(f.fieldsV1)}`),
  };
}
