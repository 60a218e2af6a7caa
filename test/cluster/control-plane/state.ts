// Where the local control plane keeps its state, and the small record of what
// `cluster:up` started (pids, ports, token) that `cluster:down`, the harness and
// a later `cluster:up` read back.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { clusterDirOf, defaultK8sVersion, k8sVersion, repoRoot } from './cluster-dirs.ts';

export { clusterDirOf, defaultK8sVersion, k8sVersion, repoRoot };

/**
 * A private control plane, apart from the shared one: a test file that needs other flags
 * (feature gates, no watch cache) sets STATEFULSET_CANARY_CLUSTER before it imports the harness
 * (see test/support/private-cluster.ts) and gets its own state dir, ports and processes.
 */
export const clusterName = process.env.STATEFULSET_CANARY_CLUSTER ?? '';

export const clusterDir = clusterDirOf(clusterName);

/**
 * The unix socket of the kubelet stand-in's pod network (the API server's egress, see
 * kubelet-network.ts): in the state dir, unless that path is too long for a socket address
 * (108 bytes with the NUL), as in a deep checkout; then in the temp dir, named after the state dir.
 */
export function podNetworkSocketPath(dir: string = clusterDir): string {
  const inDir = join(dir, 'pod-network.sock');
  if (Buffer.byteLength(inDir) <= 100) return inDir;
  const name = `statefulset-canary-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`;
  const tmp = join(tmpdir(), name);
  return Buffer.byteLength(tmp) <= 100 ? tmp : join('/tmp', name);
}

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
  /**
   * How many real nodes (a real kubelet, containerd and runc each; test/cluster/node) join the
   * stand-in's node: STATEFULSET_CANARY_REAL_NODES=1 gives two. Needs the scheduler.
   */
  readonly realNodes?: number;
}

export const clusterOptions: ClusterOptions = {
  featureGates: process.env.STATEFULSET_CANARY_FEATURE_GATES ?? '',
  apiServerArgs: (process.env.STATEFULSET_CANARY_APISERVER_ARGS ?? '').split(/\s+/).filter(Boolean),
  // The more real cluster is the default (issue 13); STATEFULSET_CANARY_SCHEDULER=0 starts one
  // where the kubelet stand-in binds pods itself, with no scheduler and no volume binding.
  ...(process.env.STATEFULSET_CANARY_SCHEDULER === '0' ? {} : { scheduler: true }),
  ...(process.env.STATEFULSET_CANARY_REAL_NODES === '1' ? { realNodes: 2 } : {}),
};
export const logsDir = join(clusterDir, 'logs');
export const pkiDir = join(clusterDir, 'pki');
export const stateFile = join(clusterDir, 'state.json');
export const kubeconfigFile = join(clusterDir, 'kubeconfig');
/** Written by the kubelet stand-in once its first list is done and its watch is open. */
export const kubeletReadyFile = join(clusterDir, 'kubelet.ready');
export const nodeName = 'local-node';

export interface ClusterProcess {
  name:
    | 'etcd'
    | 'kube-apiserver'
    | 'kube-controller-manager'
    | 'kube-scheduler'
    | 'kubelet'
    | 'prometheus'
    // A real node's runtime and kubelet (test/cluster/node), e.g. kubelet-real-node-1.
    | `containerd-${string}`
    | `kubelet-${string}`;
  pid: number;
  /** A string of its command line proving a recorded pid is still ours (default: the name). */
  match?: string;
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
  /**
   * The kubelet stand-in's loopback HTTP server (kubelet-network.ts): /pods/<namespace>/<pod>/<path>
   * (each pod's simulated app, as a runner reaching pod IPs directly would), /metrics, and
   * /counts/<namespace>/<pod>. Absent in a cluster started by an older harness.
   */
  podHttpUrl?: string;
  /** The unix socket the API server's `cluster` egress (pod proxy, kubelet client) goes through. */
  podNetworkSocket?: string;
  /** The cluster's Prometheus, scraping podHttpUrl/metrics every second. */
  prometheusUrl?: string;
  /** The real nodes (test/cluster/node), when the cluster has any. */
  realNodes?: RealNodeState[];
  processes: ClusterProcess[];
}

export interface RealNodeState {
  name: string;
  /** Pods of this node get IPs here (on the node's own bridge, reachable from this host only). */
  podCidr: string;
  kubeletPort: number;
  /** containerd's socket (for `ctr --address`). */
  runtimeSocket: string;
}

export function readState(file: string = stateFile): ClusterState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
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
