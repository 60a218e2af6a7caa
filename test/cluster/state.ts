// Where the local control plane keeps its state, and the small record of what
// `cluster:up` started (pids, ports, token) that `cluster:down`, the harness and
// a later `cluster:up` read back.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** The Kubernetes release test/cluster/k8sbin builds: the default. */
export const defaultK8sVersion = (() => {
  const goMod = readFileSync(join(repoRoot, 'test/cluster/k8sbin/go.mod'), 'utf8');
  return /k8s\.io\/kubernetes v(\S+)/.exec(goMod)?.[1] ?? 'unknown';
})();

/**
 * The release this process's cluster runs: K8S_VERSION (e.g. 1.37.2), else the default. Another
 * release is another cluster, so a matrix run never touches the default one.
 */
export const k8sVersion = (process.env.K8S_VERSION ?? '').replace(/^v/, '') || defaultK8sVersion;

/**
 * A private control plane, apart from the shared one: a test file that needs other flags
 * (feature gates, no watch cache) sets STATEFULSET_CANARY_CLUSTER before it imports the harness
 * (see test/support/private-cluster.ts) and gets its own state dir, ports and processes.
 */
export const clusterName = process.env.STATEFULSET_CANARY_CLUSTER ?? '';

export const clusterDir = join(
  repoRoot,
  ['.cluster', clusterName, k8sVersion === defaultK8sVersion ? '' : `v${k8sVersion}`]
    .filter(Boolean)
    .join('-'),
);

/** What a private cluster runs with, beyond the shared cluster's flags. */
export interface ClusterOptions {
  /** `--feature-gates` of kube-apiserver and kube-controller-manager, e.g. MaxUnavailableStatefulSet=true. */
  readonly featureGates: string;
  /** More kube-apiserver flags, e.g. --watch-cache-sizes=pods#0. */
  readonly apiServerArgs: readonly string[];
  /**
   * The more real cluster (issue 13): kube-scheduler places pods (the kubelet stand-in no longer
   * binds them), the controller-manager binds volumes (persistent-volume binder, pvc/pv
   * protection), and StorageClass `local` is served by the stand-in's provisioner.
   */
  readonly scheduler?: boolean;
}

export const clusterOptions: ClusterOptions = {
  featureGates: process.env.STATEFULSET_CANARY_FEATURE_GATES ?? '',
  apiServerArgs: (process.env.STATEFULSET_CANARY_APISERVER_ARGS ?? '').split(/\s+/).filter(Boolean),
  // The more real cluster is the default (issue 13); STATEFULSET_CANARY_SCHEDULER=0 starts one
  // where the kubelet stand-in binds pods itself, with no scheduler and no volume binding.
  ...(process.env.STATEFULSET_CANARY_SCHEDULER === '0' ? {} : { scheduler: true }),
};
export const logsDir = join(clusterDir, 'logs');
export const pkiDir = join(clusterDir, 'pki');
export const stateFile = join(clusterDir, 'state.json');
export const kubeconfigFile = join(clusterDir, 'kubeconfig');
/** Written by the kubelet stand-in once its first list is done and its watch is open. */
export const kubeletReadyFile = join(clusterDir, 'kubelet.ready');
export const nodeName = 'local-node';

export interface ClusterProcess {
  name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet';
  pid: number;
}

export interface ClusterState {
  startedAt: string;
  /** The flags it was started with beyond the shared cluster's (absent: none). */
  options?: ClusterOptions;
  binDir: string;
  apiServerUrl: string;
  controllerManagerPort: number;
  etcdClientPort: number;
  adminToken: string;
  processes: ClusterProcess[];
}

export function readState(): ClusterState | undefined {
  if (!existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Written atomically so a concurrent reader never sees half a file. */
export function writeState(state: ClusterState): void {
  writeFileSync(`${stateFile}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${stateFile}.tmp`, stateFile);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM means the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // Detached processes are reparented; until their new parent reaps them they
  // linger as zombies, which signal 0 still reaches.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export interface HttpResult {
  status: number;
  body: string;
}

/**
 * GET over http(s) with an optional CA and bearer token; never throws for a
 * connection error, it reports status 0 so callers can poll.
 */
export function httpGet(
  url: string,
  options: { ca?: string; token?: string; insecure?: boolean; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolveResult) => {
    const req = send(
      url,
      {
        method: 'GET',
        timeout: options.timeoutMs ?? 2000,
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        ...(url.startsWith('https:') ? { ca: options.ca, rejectUnauthorized: !options.insecure } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolveResult({ status: res.statusCode ?? 0, body }));
        res.on('error', (error) => resolveResult({ status: 0, body: String(error) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: GET ${url}`)));
    req.on('error', (error) => resolveResult({ status: 0, body: String(error) }));
    req.end();
  });
}

export function readCa(): string {
  return readFileSync(join(pkiDir, 'ca.crt'), 'utf8');
}

/** True when every recorded process is alive and the API server answers /readyz. */
export async function isClusterUp(state: ClusterState | undefined = readState()): Promise<boolean> {
  if (!state || state.processes.length === 0) return false;
  if (!state.processes.every((p) => isAlive(p.pid))) return false;
  if (!existsSync(join(pkiDir, 'ca.crt'))) return false;
  const ready = await httpGet(`${state.apiServerUrl}/readyz`, { ca: readCa(), token: state.adminToken });
  return ready.status === 200;
}
