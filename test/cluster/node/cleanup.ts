// Removes everything the real nodes of a cluster made on this machine, from paths and names that
// node-config.ts derives from the cluster's state dir alone, so it works as well after
// `cluster:down` as after a harness killed with SIGKILL: shims and container processes, mounts
// (rootfs, network namespaces, volumes, the kubelet's root), cgroups, bridges, CNI cache files,
// shim sockets, and the node and run dirs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterCgroup, clusterRunDir, clusterTag } from './node-config.ts';

const cgroupRoot = '/sys/fs/cgroup';

/**
 * The cgroup v1 hierarchies (cpu, memory, pids, name=systemd...); with `unified`, also the
 * hybrid setup's cgroup v2 tree, where runc makes the containers' cgroups too.
 */
export function cgroupHierarchies(unified = false): string[] {
  if (!existsSync(join(cgroupRoot, 'cpu'))) return [];
  return readdirSync(cgroupRoot)
    .filter((d) => unified || d !== 'unified')
    .map((d) => join(cgroupRoot, d))
    .filter((d) => {
      try {
        return statSync(d).isDirectory() && !statSync(d).isSymbolicLink();
      } catch {
        return false;
      }
    });
}

/** Every cgroup dir of this cluster in every hierarchy, deepest first. */
function clusterCgroupDirs(clusterDir: string): string[] {
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
    }
    dirs.push(dir);
  };
  for (const h of cgroupHierarchies(true)) walk(join(h, clusterCgroup(clusterDir)));
  return dirs;
}

function pidsIn(dirs: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const dir of dirs) {
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        if (line.trim()) pids.add(Number(line));
      }
    } catch {
      // Removed meanwhile.
    }
  }
  return [...pids];
}

/** The processes in this cluster's node cgroups: the pods' containers (and their pause). */
export function nodeProcesses(clusterDir: string): number[] {
  return pidsIn(clusterCgroupDirs(clusterDir));
}

/** Processes whose command line names one of `roots`: the nodes' containerd and its shims. */
export function processesNaming(roots: readonly string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (roots.some((r) => cmdline.includes(r))) found.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

function kill(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** Mount points under any of `roots`, deepest first (from this process's mount table). */
export function mountsUnder(roots: readonly string[]): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => roots.some((r) => p === r || p.startsWith(`${r}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** The bridges of this cluster's nodes that exist now. */
export function clusterBridges(clusterDir: string): string[] {
  const prefix = `scn${clusterTag(clusterDir)}`;
  return readdirSync('/sys/class/net').filter((n) => n.startsWith(prefix));
}

/** The ids of every task and sandbox the nodes' containerds know, from their dirs. */
function containerIds(clusterDir: string): string[] {
  const ids = new Set<string>();
  const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
  for (const node of list(clusterRunDir(clusterDir))) {
    const tasks = join(clusterRunDir(clusterDir), node, 'state', 'io.containerd.runtime.v2.task');
    for (const ns of list(tasks)) for (const id of list(join(tasks, ns))) ids.add(id);
  }
  for (const node of list(join(clusterDir, 'nodes'))) {
    for (const id of list(
      join(clusterDir, 'nodes', node, 'containerd', 'io.containerd.grpc.v1.cri', 'sandboxes'),
    )) {
      ids.add(id);
    }
  }
  return [...ids];
}

/** Shim sockets (under /run/containerd/s) that the nodes' task bundles name. */
function shimSockets(runDir: string): string[] {
  const sockets: string[] = [];
  const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
  for (const node of list(runDir)) {
    const tasks = join(runDir, node, 'state', 'io.containerd.runtime.v2.task');
    for (const ns of list(tasks)) {
      for (const id of list(join(tasks, ns))) {
        try {
          const { address } = JSON.parse(readFileSync(join(tasks, ns, id, 'bootstrap.json'), 'utf8')) as {
            address?: string;
          };
          if (address?.startsWith('unix://')) sockets.push(address.slice('unix://'.length));
        } catch {
          // No bootstrap.json: the shim never started.
        }
      }
    }
  }
  return sockets;
}

/** libcni's cache files of this cluster's pods (it keeps them in /var/lib/cni whatever the config). */
function cniCacheFiles(clusterDir: string, ids: readonly string[]): string[] {
  const cache = '/var/lib/cni/results';
  if (!existsSync(cache)) return [];
  const ours = `statefulset-canary-${clusterTag(clusterDir)}-`;
  const loopbacks = new Set(ids.map((id) => `cni-loopback-${id}-lo`));
  return readdirSync(cache)
    .filter((f) => f.startsWith(ours) || loopbacks.has(f))
    .map((f) => join(cache, f));
}

/** What of this cluster's real nodes is still on the machine ([] when nothing). */
export function leftovers(clusterDir: string): string[] {
  const runDir = clusterRunDir(clusterDir);
  const cgroups = clusterCgroupDirs(clusterDir);
  return [
    ...processesNaming([runDir, join(clusterDir, 'nodes')]).map((pid) => `process ${pid}`),
    ...pidsIn(cgroups).map((pid) => `process ${pid} in a node cgroup`),
    ...mountsUnder([join(clusterDir, 'nodes'), runDir]).map((m) => `mount ${m}`),
    ...cgroups.map((c) => `cgroup ${c}`),
    ...clusterBridges(clusterDir).map((b) => `bridge ${b}`),
    ...shimSockets(runDir)
      .filter((f) => existsSync(f))
      .map((f) => `socket ${f}`),
    ...cniCacheFiles(clusterDir, containerIds(clusterDir)).map((f) => `file ${f}`),
    ...(existsSync(runDir) ? [`dir ${runDir}`] : []),
  ];
}

/** Removes everything of this cluster's real nodes; throws naming what it could not remove. */
export async function cleanRealNodes(clusterDir: string): Promise<void> {
  const runDir = clusterRunDir(clusterDir);
  const nodesDir = join(clusterDir, 'nodes');
  // containerd and the shims first, so that nothing restarts what is killed next.
  for (let round = 0; round < 20; round++) {
    const pids = [...processesNaming([runDir, nodesDir]), ...pidsIn(clusterCgroupDirs(clusterDir))];
    if (pids.length === 0) break;
    kill(pids);
    await sleep(100);
  }
  const sockets = shimSockets(runDir);
  const cniFiles = cniCacheFiles(clusterDir, containerIds(clusterDir));
  for (const point of mountsUnder([nodesDir, runDir])) {
    try {
      execFileSync('umount', ['--lazy', point], { stdio: 'ignore' });
    } catch {
      // Gone with its parent.
    }
  }
  for (const dir of clusterCgroupDirs(clusterDir)) {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch {
        if (!existsSync(dir)) break;
        await sleep(100);
      }
    }
  }
  for (const bridge of clusterBridges(clusterDir)) {
    execFileSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
  }
  for (const file of [...sockets, ...cniFiles]) rmSync(file, { force: true });
  const left = leftovers(clusterDir).filter((l) => !/^(dir|socket|file) /.test(l));
  if (left.length > 0) throw new Error(`could not clean up the real nodes: ${left.join(', ')}`);
  rmSync(runDir, { recursive: true, force: true });
  rmSync(nodesDir, { recursive: true, force: true });
}
