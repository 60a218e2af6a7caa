// The real nodes' layout and configuration (test/cluster/node/node-config.ts): what keeps two
// nodes, and two clusters, apart on one machine, and the kubelet settings these machines need.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  type NodeComponents,
  realNodeLayout,
  registryHostsToml,
} from '../cluster/node/node-config.ts';

const components: NodeComponents = {
  containerdDir: '/cache/containerd-v2.3.7',
  containerdVersion: 'v2.3.7',
  runc: '/usr/sbin/runc',
  cniDir: '/usr/lib/cni',
  imagesDir: '/cache/images-x',
  pauseImage: 'statefulset-canary.local/pause:x',
};

describe('the real nodes of a local cluster', () => {
  it('give each node its own dirs, socket, cgroup root, bridge and /24 outside the stand-in pod IPs', () => {
    const [a, b] = [realNodeLayout('/repo/.cluster', 0), realNodeLayout('/repo/.cluster', 1)];
    for (const key of ['dir', 'runDir', 'socket', 'cgroupRoot', 'bridge', 'network', 'podCidr'] as const) {
      assert.notEqual(a[key], b[key], key);
    }
    for (const node of [a, b]) {
      assert.match(node.podCidr, /^10\.245\.\d{1,3}\.0\/24$/);
      assert.ok(node.bridge.length <= 15, `${node.bridge} fits an interface name`);
      assert.ok(Buffer.byteLength(node.socket) < 100, `${node.socket} fits a socket address`);
    }
  });

  it('keep two clusters apart by their state dirs', () => {
    const shared = realNodeLayout('/repo/.cluster', 0);
    const other = realNodeLayout('/repo/.cluster-real-nodes', 0);
    assert.notEqual(shared.bridge, other.bridge);
    assert.notEqual(shared.cgroupRoot, other.cgroupRoot);
    assert.notEqual(shared.runDir, other.runDir);
  });

  it('run the kubelet on cgroup v1 with cgroupfs, its own runtime, the taint, and no iptables', () => {
    const node = realNodeLayout('/repo/.cluster', 0);
    const config = JSON.parse(kubeletConfig(node, { kubelet: 10250, healthz: 10248 }));
    assert.equal(config.failCgroupV1, false);
    assert.equal(config.cgroupDriver, 'cgroupfs');
    assert.equal(config.cgroupRoot, node.cgroupRoot);
    assert.equal(config.containerRuntimeEndpoint, `unix://${node.socket}`);
    assert.equal(config.address, node.gateway);
    assert.equal(config.makeIPTablesUtilChains, false);
    assert.deepEqual(config.registerWithTaints, [
      { key: 'statefulset-canary.test/real-node', value: 'true', effect: 'NoSchedule' },
    ]);
  });

  it('pin the pause image, keep network namespaces in the state dir, and pull from nowhere', () => {
    const node = realNodeLayout('/repo/.cluster', 0);
    const toml = containerdConfig(node, components);
    assert.match(toml, /sandbox = "statefulset-canary\.local\/pause:x"/);
    assert.match(toml, /netns_mounts_under_state_dir = true/);
    assert.match(toml, new RegExp(`address = "${node.socket}"`));
    assert.equal(registryHostsToml().trim(), 'server = "http://127.0.0.1:9"');
  });

  it('give pods no route beyond their /24 and no masquerade', () => {
    const node = realNodeLayout('/repo/.cluster', 0);
    const [bridge] = JSON.parse(cniConfig(node)).plugins;
    assert.equal(bridge.ipMasq, false);
    assert.deepEqual(bridge.ipam.routes, []);
    assert.deepEqual(bridge.ipam.ranges, [[{ subnet: node.podCidr, gateway: node.gateway }]]);
  });
});
