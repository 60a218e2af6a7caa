// Starts the local cluster's real nodes: for each, its own containerd (images imported from the
// archives build-node.sh made) and a real kubelet of the control plane's release, registered as
// a tainted Node (see node-config.ts for the settings and why).
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { runBuildScript } from '../build/build-script.ts';
import { freePort, startDetached, waitUntil } from '../control-plane/processes.ts';
import {
  type ClusterProcess,
  type ClusterState,
  clusterDir,
  httpGet,
  isAlive,
  kubeconfigFile,
  logsDir,
  type RealNodeState,
  readCa,
} from '../control-plane/state.ts';
import { cgroupHierarchies } from './cleanup.ts';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  type NodeComponents,
  type RealNodeLayout,
  realNodeLabel,
  realNodeLayout,
  registryHostsToml,
} from './node-config.ts';

const run = promisify(execFile);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Runs test/cluster/build/build-node.sh (a no-op when cached) and reads what it printed. */
export async function buildNodeComponents(): Promise<NodeComponents> {
  const line = await runBuildScript('build-node.sh');
  return JSON.parse(line) as NodeComponents;
}

/** The node's cgroup root in every hierarchy; cpuset needs its cpus and mems filled in. */
function makeCgroups(node: RealNodeLayout): void {
  for (const hierarchy of cgroupHierarchies()) {
    let dir = hierarchy;
    for (const part of node.cgroupRoot.split('/').filter(Boolean)) {
      const parent = dir;
      dir = join(dir, part);
      if (existsSync(dir)) continue;
      mkdirSync(dir);
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (existsSync(join(parent, file))) copyFileSync(join(parent, file), join(dir, file));
      }
    }
  }
}

/**
 * The node's bridge with its gateway IP, made before the kubelet starts (the CNI bridge plugin
 * would make it only with the first pod): that IP is the node's address.
 */
async function makeBridge(node: RealNodeLayout): Promise<void> {
  await run('ip', ['link', 'add', 'name', node.bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${node.gateway}/24`, 'dev', node.bridge]);
  await run('ip', ['link', 'set', node.bridge, 'up']);
}

/**
 * A kubelet registers its Node with the not-ready taint and the controller-manager's node
 * lifecycle controller removes it once the Node is Ready. That controller does not run here (it
 * would evict the stand-in's pods when the stand-in pauses), so the harness removes the taint.
 */
async function dropNotReadyTaint(name: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  const core = kc.makeApiClient(CoreV1Api);
  const node = await core.readNode({ name });
  const taints = (node.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready');
  await core.patchNode({ name, body: { spec: { taints } } }, mergePatch);
}

function writeConfigs(
  node: RealNodeLayout,
  c: NodeComponents,
  ports: { kubelet: number; healthz: number },
): void {
  for (const d of ['cni', 'registries/_default', 'pod-logs', 'kubelet', 'ipam']) {
    mkdirSync(join(node.dir, d), { recursive: true });
  }
  mkdirSync(node.runDir, { recursive: true });
  writeFileSync(join(node.dir, 'containerd.toml'), containerdConfig(node, c));
  writeFileSync(join(node.dir, 'registries/_default/hosts.toml'), registryHostsToml());
  writeFileSync(join(node.dir, 'cni', '10-pods.conflist'), cniConfig(node));
  writeFileSync(join(node.dir, 'kubelet.json'), kubeletConfig(node, ports));
}

function assertRunning(p: ClusterProcess): void {
  if (!isAlive(p.pid)) {
    throw new Error(`${p.name} (pid ${p.pid}) exited during start; see ${join(logsDir, `${p.name}.log`)}`);
  }
}

async function startContainerd(node: RealNodeLayout, c: NodeComponents): Promise<ClusterProcess> {
  const ctr = join(c.containerdDir, 'ctr');
  // containerd finds containerd-shim-runc-v2 on PATH.
  const env = { ...process.env, PATH: `${c.containerdDir}:${process.env.PATH ?? ''}` };
  const p: ClusterProcess = {
    ...startDetached(
      `containerd-${node.name}`,
      join(c.containerdDir, 'containerd'),
      [`--config=${join(node.dir, 'containerd.toml')}`, '--log-level=warn'],
      env,
    ),
    match: join(node.dir, 'containerd.toml'),
  };
  const version = async (): Promise<boolean> => {
    assertRunning(p);
    return run(ctr, ['--address', node.socket, 'version']).then(
      () => true,
      () => false,
    );
  };
  await waitUntil(version, 30_000, `containerd of ${node.name} (log: ${join(logsDir, `${p.name}.log`)})`);
  for (const image of ['pause.tar', 'app.tar']) {
    await run(ctr, ['--address', node.socket, '-n', 'k8s.io', 'images', 'import', join(c.imagesDir, image)]);
  }
  return p;
}

async function nodeReady(state: ClusterState, name: string): Promise<boolean> {
  const res = await httpGet(`${state.apiServerUrl}/api/v1/nodes/${name}`, {
    ca: readCa(),
    token: state.adminToken,
  });
  if (res.status !== 200) return false;
  const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function startKubelet(node: RealNodeLayout, binDir: string): ClusterProcess {
  const config = join(node.dir, 'kubelet.json');
  return {
    ...startDetached(`kubelet-${node.name}`, join(binDir, 'kubelet'), [
      `--config=${config}`,
      `--kubeconfig=${kubeconfigFile}`,
      `--root-dir=${join(node.dir, 'kubelet')}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${node.gateway}`,
      `--node-labels=${realNodeLabel.key}=${realNodeLabel.value}`,
      '--v=1',
    ]),
    match: config,
  };
}

/** One node: containerd, images, kubelet, and its Node Ready. Records each process as it starts. */
async function startNode(
  state: ClusterState,
  binDir: string,
  c: NodeComponents,
  index: number,
  ports: { kubelet: number; healthz: number },
  record: (p: ClusterProcess) => void,
): Promise<RealNodeState> {
  const node = realNodeLayout(clusterDir, index);
  makeCgroups(node);
  await makeBridge(node);
  writeConfigs(node, c, ports);
  record(await startContainerd(node, c));
  const kubelet = startKubelet(node, binDir);
  record(kubelet);
  await waitUntil(
    async () => {
      assertRunning(kubelet);
      return nodeReady(state, node.name);
    },
    90_000,
    `Node ${node.name} to be Ready (log: ${join(logsDir, `${kubelet.name}.log`)})`,
    250,
  );
  await dropNotReadyTaint(node.name);
  return { name: node.name, podCidr: node.podCidr, kubeletPort: ports.kubelet, runtimeSocket: node.socket };
}

/** Starts `count` real nodes side by side; their processes go into the state as they start. */
export async function startRealNodes(
  state: ClusterState,
  binDir: string,
  components: NodeComponents,
  count: number,
  record: (p: ClusterProcess) => void,
  used: Set<number>,
): Promise<RealNodeState[]> {
  if (!existsSync(join(binDir, 'kubelet'))) throw new Error(`no kubelet in ${binDir}: run build-binaries.sh`);
  const ports: { kubelet: number; healthz: number }[] = [];
  for (let i = 0; i < count; i++) {
    const kubelet = await freePort(used);
    used.add(kubelet);
    const healthz = await freePort(used);
    used.add(healthz);
    ports.push({ kubelet, healthz });
  }
  return Promise.all(ports.map((p, i) => startNode(state, binDir, components, i, p, record)));
}

/** The pod CIDRs of this cluster's real nodes (the stand-in's egress tunnels to them). */
export function realPodCidrs(count: number): string[] {
  return Array.from({ length: count }, (_, i) => realNodeLayout(clusterDir, i).podCidr);
}
