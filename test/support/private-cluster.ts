// A control plane of a test file's own, apart from the shared one (own state dir, ports and
// processes), for what the shared cluster must not run with: feature gates, no watch cache.
//
// The harness reads which cluster to use from the environment when it is first imported, so a
// test file selects its cluster first and imports the harness afterwards, dynamically:
//
//   import { selectPrivateCluster } from './private-cluster.ts';
//   selectPrivateCluster('max-unavailable', { featureGates: 'MaxUnavailableStatefulSet=true' });
//   const { freshNamespace } = await import('../cluster/harness.ts');
//   const { ensureClusterUp, stopCluster } = await import('../cluster/lifecycle.ts');
//   before(() => ensureClusterUp());
//   after(() => stopCluster());
//
// This module imports nothing of the harness, so importing it statically is safe.

export interface PrivateClusterOptions {
  /** `--feature-gates` of kube-apiserver and kube-controller-manager. */
  readonly featureGates?: string;
  /** More kube-apiserver flags. */
  readonly apiServerArgs?: readonly string[];
  /** kube-scheduler, volume binding and StorageClass `local` (see ClusterOptions.scheduler). */
  readonly scheduler?: boolean;
  /** Two real nodes beside the stand-in's (test/cluster/node; needs the scheduler). */
  readonly realNodes?: boolean;
}

/** Points this process's harness at cluster `.cluster-<name>` (started with these options). */
export function selectPrivateCluster(name: string, options: PrivateClusterOptions = {}): void {
  if (!/^[a-z0-9-]+$/.test(name))
    throw new Error(`private cluster name ${JSON.stringify(name)}: use a-z, 0-9, -`);
  process.env.STATEFULSET_CANARY_CLUSTER = name;
  process.env.STATEFULSET_CANARY_FEATURE_GATES = options.featureGates ?? '';
  process.env.STATEFULSET_CANARY_APISERVER_ARGS = (options.apiServerArgs ?? []).join(' ');
  process.env.STATEFULSET_CANARY_SCHEDULER = options.scheduler ? '1' : '0';
  process.env.STATEFULSET_CANARY_REAL_NODES = options.realNodes ? '1' : '';
}
