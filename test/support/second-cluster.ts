// A second private control plane beside the one the harness of this process runs, for a test
// of several kube contexts in one run: started and stopped by the harness's own scripts
// (test/cluster/up.ts, down.ts) in a child process under another cluster name, so it has its own
// state dir, ports and processes: one cluster more than the suite's shared one while it runs.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Cluster, KubeConfig, type User } from '@kubernetes/client-node';
import { clusterDirOf } from '../cluster/control-plane/cluster-dirs.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');

export interface SecondCluster {
  readonly kubeConfig: KubeConfig;
  stop(): Promise<void>;
}

/** Starts (or reuses) private cluster `name` in a child process; `stop` brings it down. */
export async function startSecondCluster(name: string): Promise<SecondCluster> {
  const env = { ...process.env, STATEFULSET_CANARY_CLUSTER: name };
  await run(process.execPath, [join(root, 'test/cluster/up.ts')], { env, cwd: root });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(join(clusterDirOf(name), 'kubeconfig'));
  return {
    kubeConfig,
    stop: async () => {
      await run(process.execPath, [join(root, 'test/cluster/down.ts')], { env, cwd: root });
    },
  };
}

/** One kubeconfig holding each given cluster's current context as context `name`, namespace `namespace`. */
export function mergedKubeConfig(
  parts: readonly { readonly name: string; readonly kubeConfig: KubeConfig }[],
  namespace: string,
): KubeConfig {
  const clusters: Cluster[] = [];
  const users: User[] = [];
  for (const { name, kubeConfig } of parts) {
    const cluster = kubeConfig.getCurrentCluster();
    const user = kubeConfig.getCurrentUser();
    if (!cluster || !user) throw new Error(`the kubeconfig of ${name} has no current cluster or user`);
    clusters.push({ ...cluster, name });
    users.push({ ...user, name });
  }
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters,
    users,
    contexts: parts.map(({ name }) => ({ name, cluster: name, user: name, namespace })),
    currentContext: parts[0]?.name ?? '',
  });
  return merged;
}
