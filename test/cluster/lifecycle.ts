// Bringing the local cluster up (or reusing one that is up) and down again.
// Used by `npm run cluster:up`, `npm run cluster:down` and `npm test`.

import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { runBuildScript } from './build/build-script.ts';
import { startControlPlane, startKubelet } from './control-plane/control-plane.ts';
import { stopProcesses } from './control-plane/processes.ts';
import { buildPrometheus } from './control-plane/prometheus.ts';
import {
  type ClusterOptions,
  type ClusterProcess,
  type ClusterState,
  clusterDir,
  clusterOptions,
  httpGet,
  isAlive,
  isClusterUp,
  readCa,
  readState,
  repoRoot,
  writeState,
} from './control-plane/state.ts';
import { cleanRealNodes } from './node/cleanup.ts';
import { buildNodeComponents } from './node/nodes.ts';

const lockFile = join(clusterDir, 'up.lock');
const noOptions: ClusterOptions = { featureGates: '', apiServerArgs: [] };

export interface UpResult {
  /** True when this call started the cluster; false when it reused a running one. */
  started: boolean;
  state: ClusterState;
  /** gitVersion from the API server's /version. */
  version: string;
  elapsedMs: number;
}

/** Runs test/cluster/build/build-binaries.sh (a no-op when cached); its last stdout line is the bin dir. */
export async function buildBinaries(): Promise<string> {
  const dir = await runBuildScript('build-binaries.sh');
  if (!dir) throw new Error('test/cluster/build/build-binaries.sh printed no bin dir');
  return dir;
}

/** Runs test/cluster/build/build-scheduler.sh into the same bin dir (a no-op when cached). */
function buildScheduler(binDir: string): Promise<void> {
  return new Promise((resolveDone, reject) => {
    const child = spawn('bash', [join(repoRoot, 'test/cluster/build/build-scheduler.sh'), binDir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolveDone()
        : reject(new Error(`test/cluster/build/build-scheduler.sh failed (exit ${code})`)),
    );
  });
}

/** Only signal a recorded pid if it still runs the program we started (pids get reused). */
function stillOurs(p: ClusterProcess): boolean {
  if (!isAlive(p.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
    return cmdline.includes(p.match ?? (p.name === 'kubelet' ? 'kubelet.ts' : p.name));
  } catch {
    return false;
  }
}

/** Stops what a (possibly half-dead) earlier run recorded and empties .cluster, keeping the lock. */
async function clearStale(state: ClusterState | undefined): Promise<void> {
  for (const p of [...(state?.processes ?? [])].reverse()) if (stillOurs(p)) await stopProcesses([p]);
  // Before anything under .cluster is removed: the real nodes' mounts are under it.
  await cleanRealNodes(clusterDir);
  if (!existsSync(clusterDir)) return;
  for (const entry of readdirSync(clusterDir)) {
    if (entry !== 'up.lock') rmSync(join(clusterDir, entry), { recursive: true, force: true });
  }
}

/**
 * Serialises concurrent `cluster:up` calls (several test runs may share the
 * work tree): the lock holds the pid of its owner and is taken over when that
 * process is gone.
 */
async function withLock<T>(body: () => Promise<T>): Promise<T> {
  mkdirSync(clusterDir, { recursive: true });
  // Long enough for a cold build of the binaries by the process holding the lock.
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (!owner || !isAlive(owner)) rmSync(lockFile, { force: true });
      else if (Date.now() > deadline) throw new Error(`${lockFile} is held by pid ${owner}`);
      else await sleep(250);
    }
  }
  try {
    return await body();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

async function serverVersion(state: ClusterState): Promise<string> {
  const res = await httpGet(`${state.apiServerUrl}/version`, { ca: readCa(), token: state.adminToken });
  if (res.status !== 200)
    throw new Error(`GET ${state.apiServerUrl}/version answered ${res.status}: ${res.body}`);
  return (JSON.parse(res.body) as { gitVersion: string }).gitVersion;
}

/** Starts the cluster unless one is already up; reuses it if so. */
export async function ensureClusterUp(): Promise<UpResult> {
  const begin = Date.now();
  return withLock(async () => {
    const existing = readState();
    if (existing && (await isClusterUp(existing))) {
      if (!existing.podHttpUrl) {
        throw new Error(
          `the cluster in ${clusterDir} was started by an older harness, without the pod network and ` +
            'Prometheus: restart it (npm run cluster:down, then npm run cluster:up)',
        );
      }
      if (!isDeepStrictEqual(existing.options ?? noOptions, clusterOptions)) {
        throw new Error(
          `the cluster in ${clusterDir} runs with ${JSON.stringify(existing.options ?? noOptions)}, not ` +
            `${JSON.stringify(clusterOptions)}: stop it first (npm run cluster:down with the same environment)`,
        );
      }
      return {
        started: false,
        state: existing,
        version: await serverVersion(existing),
        elapsedMs: Date.now() - begin,
      };
    }
    if (existing) console.error('found state of a cluster that is not running: cleaning it up');
    await clearStale(existing);
    const binDir = await buildBinaries();
    if (clusterOptions.scheduler) await buildScheduler(binDir);
    const prometheus = await buildPrometheus();
    if (clusterOptions.realNodes && !clusterOptions.scheduler) {
      throw new Error(
        'real nodes (STATEFULSET_CANARY_REAL_NODES=1) need the scheduler: unset STATEFULSET_CANARY_SCHEDULER',
      );
    }
    const nodeComponents = clusterOptions.realNodes ? await buildNodeComponents() : undefined;
    const startBegin = Date.now();
    let state: ClusterState | undefined;
    try {
      state = await startControlPlane(binDir, prometheus, nodeComponents);
    } catch (error) {
      // Leave the logs for diagnosis but do not leave half a cluster running.
      await stopProcesses((readState()?.processes ?? []).filter(stillOurs));
      await cleanRealNodes(clusterDir);
      throw error;
    }
    const version = await serverVersion(state);
    console.error(
      `control plane started in ${((Date.now() - startBegin) / 1000).toFixed(1)} s (excluding build)`,
    );
    return { started: true, state, version, elapsedMs: Date.now() - begin };
  });
}

/** Stops every process `cluster:up` recorded, by pid, and removes .cluster. */
export async function stopCluster(): Promise<{ stopped: ClusterProcess[] }> {
  return withLock(async () => {
    const state = readState();
    const stopped = state?.processes.filter(stillOurs) ?? [];
    // Reverse start order: kube-apiserver shuts down cleanly only while etcd still answers.
    for (const p of [...stopped].reverse()) await stopProcesses([p]);
    await clearStale(undefined);
    return { stopped };
  }).finally(() => {
    // Only if nothing new appeared: a concurrent `cluster:up` may already own it.
    try {
      rmdirSync(clusterDir);
    } catch {
      // Not empty or already gone.
    }
  });
}

/**
 * Replaces only the kubelet stand-in (after changing its code) and leaves the
 * rest, and every pod, running; pods created meanwhile are picked up by its
 * first list.
 */
export async function restartKubelet(): Promise<ClusterProcess> {
  return withLock(async () => {
    const state = readState();
    if (!state || !(await isClusterUp(state)))
      throw new Error('local cluster is not up: run `npm run cluster:up`');
    await stopProcesses(state.processes.filter((p) => p.name === 'kubelet' && stillOurs(p)));
    const kubelet = await startKubelet(state);
    state.processes = [...state.processes.filter((p) => p.name !== 'kubelet'), kubelet];
    writeState(state);
    return kubelet;
  });
}
