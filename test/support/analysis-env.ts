// What canary analysis tests reach on the local cluster (test/cluster/kubelet/kubelet-network.ts and
// prometheus.ts): each pod's simulated app, through the API server's pod proxy or directly, the
// cluster's Prometheus, a private Prometheus, and how many requests each pod's app served.
//
//   const prom = clusterPrometheusUrl();
//   await waitForSeries(prom, `app_requests_total{namespace="${ns.name}"}`);
//   const before = await podRequestCount(ns.name, 'web-2');
//   const url = `${podHttpBaseUrl()}/pods/{{namespace}}/{{pod}}/healthz`;
//
// Every function reads the cluster the process selected when it is called (the shared one, or a
// private one after selectPrivateCluster). This module imports nothing that reads the selection
// at import time (the harness's modules are loaded on first use), so a test file may import it
// statically, before it selects a private cluster.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { selectedClusterDir } from '../cluster/control-plane/cluster-dirs.ts';
import type { ClusterState } from '../cluster/control-plane/state.ts';

function clusterState(): ClusterState {
  const dir = selectedClusterDir();
  const file = join(dir, 'state.json');
  if (!existsSync(file)) throw new Error(`no local cluster in ${dir}: run \`npm run cluster:up\``);
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

/** GET `url` (status 0 for a connection error), with the harness's client. */
async function httpGet(url: string): Promise<{ status: number; body: string }> {
  return (await import('../cluster/control-plane/state.ts')).httpGet(url);
}

const restart = 'restart it (npm run cluster:down, then npm run cluster:up)';

/** The base URL of the selected cluster's Prometheus, e.g. http://127.0.0.1:PORT. */
export function clusterPrometheusUrl(): string {
  const url = clusterState().prometheusUrl;
  if (!url) throw new Error(`the local cluster in ${selectedClusterDir()} runs no Prometheus: ${restart}`);
  return url;
}

/**
 * The base of the direct pod URLs, e.g. http://127.0.0.1:PORT: `${base}/pods/NS/POD/healthz` is
 * what pod NS/POD's app answers at /healthz (as a runner reaching pod IPs directly would see it).
 */
export function podHttpBaseUrl(): string {
  const url = clusterState().podHttpUrl;
  if (!url) throw new Error(`the local cluster in ${selectedClusterDir()} has no pod network: ${restart}`);
  return url;
}

/**
 * How many HTTP requests pod `namespace`/`pod`'s app served since the kubelet stand-in started
 * (through the API server's pod proxy or directly; a pod recreated with the same name keeps
 * counting).
 */
export async function podRequestCount(namespace: string, pod: string): Promise<number> {
  const url = `${podHttpBaseUrl()}/counts/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}`;
  const res = await httpGet(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${res.body}`);
  return (JSON.parse(res.body) as { count: number }).count;
}

/**
 * Resolves once `query` returns a non-empty result from the Prometheus at `url`; rejects when
 * `signal` aborts or after `timeoutMs`, with the last answer.
 */
export async function waitForSeries(
  url: string,
  query: string,
  signal?: AbortSignal,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    signal?.throwIfAborted();
    const res = await httpGet(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
    last = `${res.status} ${res.body.slice(0, 300)}`;
    if (res.status === 200) {
      const body = JSON.parse(res.body) as { data?: { result?: unknown[] | unknown } };
      const result = body.data?.result;
      if (Array.isArray(result) ? result.length > 0 : result !== undefined) return;
    }
    if (Date.now() >= deadline) break;
    await sleep(100, undefined, { signal });
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${url} to return series for ${query} (last: ${last})`,
  );
}

export interface PrivatePrometheus {
  url: string;
  /** Stops it (SIGTERM by pid, SIGKILL after 10 s), waits for it to exit, removes its data. */
  stop(): Promise<void>;
}

/**
 * Starts a Prometheus of the caller's own, scraping the selected cluster's kubelet stand-in like
 * the cluster's one (every `scrapeIntervalMs`, default 1000), for a test that stops Prometheus
 * mid-stage. Resolves once it is ready. A child of this process, killed when this process exits.
 */
export async function startPrometheus(
  options: { scrapeIntervalMs?: number } = {},
): Promise<PrivatePrometheus> {
  const target = new URL(podHttpBaseUrl()).host;
  const { buildPrometheus, prometheusArgs, prometheusReady } = await import(
    '../cluster/control-plane/prometheus.ts'
  );
  const { freePort } = await import('../cluster/control-plane/processes.ts');
  const { isAlive } = await import('../cluster/control-plane/state.ts');
  const binary = await buildPrometheus();
  const id = randomBytes(4).toString('hex');
  const dir = join(selectedClusterDir(), `prometheus-${id}`);
  const port = await freePort();
  const args = prometheusArgs(dir, port, target, options.scrapeIntervalMs);
  mkdirSync(join(selectedClusterDir(), 'logs'), { recursive: true });
  const log = join(selectedClusterDir(), 'logs', `prometheus-${id}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${binary}; see ${log}`);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    await stopChild(child, pid, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!(await prometheusReady(url))) {
    if (!isAlive(pid) || Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus (pid ${pid}) did not become ready at ${url}; see ${log}`);
    }
    await sleep(50);
  }
  return { url, stop };
}

async function stopChild(child: ChildProcess, pid: number, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // It exited meanwhile; `exited` resolves.
  }
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(timer);
}
