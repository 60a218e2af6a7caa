// Where each real node of a local cluster lives and how its containerd, CNI network and kubelet
// are configured. Everything is derived from the cluster's state dir, so `cluster:down` and the
// next `cluster:up` after a killed run find every path, cgroup and bridge again without any
// process or state file surviving.
//
// Why these settings (modelled on kind's node, which is also not a whole machine):
// - each node its own containerd (root, state, socket, runc root, netns dir): a kubelet removes
//   containers in its runtime that it did not start, so two kubelets must not share one;
// - cgroupfs driver under a cgroup root of the node's own, `failCgroupV1: false` (these machines
//   mount cgroup v1; kubelet 1.35+ refuses it otherwise, KEP-5573);
// - swap tolerated and disk evictions off (thresholds 0%, image GC at 100%), as kind does: a
//   test must not lose pods to a full developer disk;
// - pods on a bridge of the node's own with the gateway on the host and no routes in the pods
//   beyond their /24, no masquerade and no port mapping (so no iptables): pod traffic can only
//   reach this host and the node's other pods;
// - image pulls go to a closed loopback port: nothing is pulled from outside, a missing image
//   fails with the kubelet's real ErrImagePull / ImagePullBackOff;
// - the kubelet listens only on the node's address, its bridge's gateway IP on this host (a
//   kubelet refuses a loopback node IP), and lets the API server in without credentials (the API
//   server reaches it through the cluster's egress socket, see control-plane.ts).
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Taint and label of every real node: only pods that tolerate the taint land there. */
export const realNodeTaint = {
  key: 'statefulset-canary.test/real-node',
  value: 'true',
  effect: 'NoSchedule',
};
export const realNodeLabel = { key: 'statefulset-canary.test/node', value: 'real' };
export const maxPodsPerNode = 110;

/** What the node build (test/cluster/build/build-node.sh) printed. */
export interface NodeComponents {
  containerdDir: string;
  containerdVersion: string;
  runc: string;
  cniDir: string;
  imagesDir: string;
  pauseImage: string;
}

export interface RealNodeLayout {
  name: string;
  /** Config, kubelet root, containerd root, pod logs: under the cluster's state dir. */
  dir: string;
  /** containerd's state and sockets: short paths under /run (socket addresses are 108 bytes). */
  runDir: string;
  socket: string;
  /** The node's cgroup root, in every cgroup v1 hierarchy. */
  cgroupRoot: string;
  bridge: string;
  network: string;
  podCidr: string;
  gateway: string;
}

/** A short id of the cluster (its state dir), naming its cgroups, bridges and run dir. */
export function clusterTag(clusterDir: string): string {
  return createHash('sha256').update(clusterDir).digest('hex').slice(0, 6);
}

/** The run dir holding every node's containerd state of this cluster. */
export function clusterRunDir(clusterDir: string): string {
  return join('/run/statefulset-canary', clusterTag(clusterDir));
}

/** The parent cgroup of every node of this cluster. */
export function clusterCgroup(clusterDir: string): string {
  return `/statefulset-canary-${clusterTag(clusterDir)}`;
}

/**
 * Node `index` (0-based) of the cluster in `clusterDir`. Pod CIDRs are /24s of 10.245.0.0/16 (the
 * stand-in's pod IPs are 10.244.0.0/16), two a cluster, at a slot chosen by the cluster's tag so
 * that a private cluster's nodes rarely meet the shared cluster's.
 */
export function realNodeLayout(clusterDir: string, index: number): RealNodeLayout {
  const tag = clusterTag(clusterDir);
  const name = `real-node-${index + 1}`;
  const slot = Number.parseInt(tag.slice(0, 2), 16) % 120;
  const octet = slot * 2 + index;
  const runDir = join(clusterRunDir(clusterDir), name);
  return {
    name,
    dir: join(clusterDir, 'nodes', name),
    runDir,
    socket: join(runDir, 'containerd.sock'),
    cgroupRoot: `${clusterCgroup(clusterDir)}/${name}`,
    bridge: `scn${tag}${index}`,
    network: `statefulset-canary-${tag}-${index}`,
    podCidr: `10.245.${octet}.0/24`,
    gateway: `10.245.${octet}.1`,
  };
}

const q = (s: string): string => JSON.stringify(s);

export function containerdConfig(node: RealNodeLayout, c: NodeComponents): string {
  return [
    'version = 3',
    `root = ${q(join(node.dir, 'containerd'))}`,
    `state = ${q(join(node.runDir, 'state'))}`,
    // Plugins that would use paths shared by the machine (or need what is not here).
    'disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs"]',
    '[grpc]',
    `  address = ${q(node.socket)}`,
    '[ttrpc]',
    `  address = ${q(`${node.socket}.ttrpc`)}`,
    "[plugins.'io.containerd.cri.v1.images']",
    "  snapshotter = 'overlayfs'",
    // Pinned: the kubelet's image GC keeps it; there is no registry to pull it from again.
    "  [plugins.'io.containerd.cri.v1.images'.pinned_images]",
    `    sandbox = ${q(c.pauseImage)}`,
    "  [plugins.'io.containerd.cri.v1.images'.registry]",
    `    config_path = ${q(join(node.dir, 'registries'))}`,
    "[plugins.'io.containerd.cri.v1.runtime']",
    '  netns_mounts_under_state_dir = true',
    // Without CAP_SYS_RESOURCE (as on these VMs) a container cannot be given a lower
    // oom_score_adj than its runtime's: clamp instead of failing the sandbox.
    '  restrict_oom_score_adj = true',
    "  [plugins.'io.containerd.cri.v1.runtime'.cni]",
    `    bin_dirs = [${q(c.cniDir)}]`,
    `    conf_dir = ${q(join(node.dir, 'cni'))}`,
    "  [plugins.'io.containerd.cri.v1.runtime'.containerd]",
    "    default_runtime_name = 'runc'",
    "    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
    "      runtime_type = 'io.containerd.runc.v2'",
    "      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
    `        BinaryName = ${q(c.runc)}`,
    `        Root = ${q(join(node.runDir, 'runc'))}`,
    '        SystemdCgroup = false',
    "[plugins.'io.containerd.grpc.v1.cri']",
    "  stream_server_address = '127.0.0.1'",
    "  stream_server_port = '0'",
    '',
  ].join('\n');
}

/** Every pull goes to a closed loopback port (the discard port has no listener here). */
export function registryHostsToml(): string {
  return ['server = "http://127.0.0.1:9"', ''].join('\n');
}

export function cniConfig(node: RealNodeLayout): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: node.network,
      plugins: [
        {
          type: 'bridge',
          bridge: node.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: false,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: node.podCidr, gateway: node.gateway }]],
            routes: [],
            dataDir: join(node.dir, 'ipam'),
          },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

export function kubeletConfig(node: RealNodeLayout, ports: { kubelet: number; healthz: number }): string {
  return `${JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // The node's address: the bridge's gateway IP (a kubelet refuses a loopback node IP).
      address: node.gateway,
      port: ports.kubelet,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: ports.healthz,
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false }, x509: {} },
      authorization: { mode: 'AlwaysAllow' },
      cgroupDriver: 'cgroupfs',
      cgroupRoot: node.cgroupRoot,
      failCgroupV1: false,
      failSwapOn: false,
      containerRuntimeEndpoint: `unix://${node.socket}`,
      podLogsDir: join(node.dir, 'pod-logs'),
      // No host resolver in pods, and the cluster DNS is the node's own address, where nothing
      // answers on port 53: nothing outside is ever looked up (and no MissingClusterDNS events).
      resolvConf: '',
      clusterDNS: [node.gateway],
      clusterDomain: 'cluster.local',
      registerWithTaints: [realNodeTaint],
      maxPods: maxPodsPerNode,
      evictionHard: { 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
      imageGCHighThresholdPercent: 100,
      makeIPTablesUtilChains: false,
      serializeImagePulls: false,
      // Status reports as often as a default kubelet: tests wait on what it writes.
      nodeStatusReportFrequency: '10s',
    },
    null,
    2,
  )}\n`;
}
