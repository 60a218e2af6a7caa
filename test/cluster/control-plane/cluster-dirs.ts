// Where each local cluster keeps its state, as functions of the release and the cluster's name.
// Unlike state.ts, importing this module reads no cluster selection from the environment, so
// helpers that must follow a later selectPrivateCluster (test/support/analysis-env.ts) use it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');

/** The Kubernetes release test/cluster/build/k8sbin builds: the default. */
export const defaultK8sVersion = (() => {
  const goMod = readFileSync(join(repoRoot, 'test/cluster/build/k8sbin/go.mod'), 'utf8');
  return /k8s\.io\/kubernetes v(\S+)/.exec(goMod)?.[1] ?? 'unknown';
})();

/**
 * The release this process's cluster runs: K8S_VERSION (e.g. 1.37.2), else the default. Another
 * release is another cluster, so a matrix run never touches the default one.
 */
export const k8sVersion = (process.env.K8S_VERSION ?? '').replace(/^v/, '') || defaultK8sVersion;

/** The state dir of cluster `name` ('' for the shared one) running release `version`. */
export function clusterDirOf(name: string, version: string = k8sVersion): string {
  return join(
    repoRoot,
    ['.cluster', name, version === defaultK8sVersion ? '' : `v${version}`].filter(Boolean).join('-'),
  );
}

/** The state dir of the cluster this process selected so far (see test/support/private-cluster.ts). */
export function selectedClusterDir(): string {
  return clusterDirOf(process.env.STATEFULSET_CANARY_CLUSTER ?? '');
}
