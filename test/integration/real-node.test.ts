// The local cluster's real nodes (test/cluster/node; issue 22), on a private control plane
// started with two of them beside the stand-in: a real kubelet, containerd and runc run the test
// app image built here. Pods land there only by tolerating the nodes' taint; required pod
// anti-affinity on kubernetes.io/hostname spreads them over both; a real readiness probe makes
// them Ready; logs and exec go API server -> egress -> kubelet -> containerd; and stopping the
// cluster, normally or after every process of it was killed, leaves nothing on the machine.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, Exec, type V1StatefulSet, type V1Status } from '@kubernetes/client-node';
import { selectPrivateCluster } from '../support/private-cluster.ts';

selectPrivateCluster('real-nodes', { scheduler: true, realNodes: true });
const { ensureClusterUp, stopCluster } = await import('../cluster/lifecycle.ts');
const { freshNamespace, waitFor } = await import('../cluster/harness.ts');
const { clusterDir, readState } = await import('../cluster/control-plane/state.ts');
const { leftovers, nodeProcesses } = await import('../cluster/node/cleanup.ts');
const { realNodeLabel, realNodeTaint } = await import('../cluster/node/node-config.ts');

type Namespace = Awaited<ReturnType<typeof freshNamespace>>;

/** Two pods of the test app, one a real node (required anti-affinity), Ready by a real HTTP probe. */
function spreadApp(name: string): V1StatefulSet {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: 2,
      serviceName: name,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 5,
          nodeSelector: { [realNodeLabel.key]: realNodeLabel.value },
          tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: 'NoSchedule' }],
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
              ],
            },
          },
          containers: [
            {
              name: 'app',
              image: 'statefulset-canary.local/app:v1',
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

async function startSpreadApp(ns: Namespace, name: string) {
  const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
  const core = ns.kubeConfig.makeApiClient(CoreV1Api);
  await apps.createNamespacedStatefulSet({ namespace: ns.name, body: spreadApp(name) });
  await waitFor(
    async () =>
      (await apps.readNamespacedStatefulSet({ name, namespace: ns.name })).status?.readyReplicas === 2,
    90_000,
    `StatefulSet ${ns.name}/${name} to have 2 Ready pods on the real nodes`,
    250,
  );
  return (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `app=${name}` })).items;
}

/** Runs `command` in the pod's container through the API server and returns the final Status. */
function exec(ns: Namespace, pod: string, command: string[]): Promise<V1Status> {
  // The API server refuses an exec with no stream at all.
  const output = new PassThrough().resume();
  return new Promise((resolveStatus, reject) => {
    new Exec(ns.kubeConfig)
      .exec(ns.name, pod, 'app', command, output, output, null, false, resolveStatus)
      .catch(reject);
  });
}

describe('real nodes', { timeout: 600_000 }, () => {
  before(() => ensureClusterUp());
  after(() => stopCluster());

  it('runs a pod on each real node, Ready by a real readiness probe, with logs and exec', async () => {
    const ns = await freshNamespace('real-node');
    try {
      const pods = await startSpreadApp(ns, 'spread');
      const nodes = pods.map((p) => p.spec?.nodeName ?? '').sort();
      assert.deepEqual(nodes, ['real-node-1', 'real-node-2']);
      const core = ns.kubeConfig.makeApiClient(CoreV1Api);
      for (const pod of pods) {
        const name = pod.metadata?.name ?? '';
        assert.match(pod.status?.podIP ?? '', /^10\.245\./, `${name} has an IP on its node's bridge`);
        const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
        assert.equal(ready?.status, 'True');
        assert.match(pod.status?.containerStatuses?.[0]?.containerID ?? '', /^containerd:\/\//);
        // The pod proxy reaches the real pod through the cluster's egress.
        const health = await core.connectGetNamespacedPodProxyWithPath({
          name: `${name}:8080`,
          namespace: ns.name,
          path: 'healthz',
        });
        assert.match(String(health), /ok/);
        const log = await core.readNamespacedPodLog({ name, namespace: ns.name, container: 'app' });
        assert.ok(log.length > 0, `${name} logged what its container wrote at start`);
        // The runtime's own words: the exec reached runc inside the container.
        const status = await exec(ns, name, ['/no-such-command']);
        assert.equal(status.status, 'Failure');
        assert.match(
          status.message ?? '',
          /OCI runtime exec failed: .*\/no-such-command.*no such file or directory/,
        );
      }
    } finally {
      await ns.cleanup();
    }
  });

  it('cluster:down leaves no process, mount, cgroup, bridge or network namespace behind', async () => {
    await stopCluster();
    assert.deepEqual(leftovers(clusterDir), []);
    await ensureClusterUp();
  });

  it('a cluster:up after every process of the cluster was killed starts clean', async () => {
    const ns = await freshNamespace('real-node-killed');
    await startSpreadApp(ns, 'killed');
    const containers = nodeProcesses(clusterDir);
    assert.ok(containers.length >= 4, 'the pods run (a pause and an app process each)');
    // As after a crash of the machine's test run: SIGKILL, nothing runs cluster:down.
    for (const p of readState()?.processes ?? []) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    assert.ok(leftovers(clusterDir).length > 0, 'the containers outlive their kubelets and runtimes');
    await ensureClusterUp();
    const survivors = containers.filter((pid) => nodeProcesses(clusterDir).includes(pid));
    assert.deepEqual(survivors, [], 'no process of the killed cluster runs in the new one');
    await stopCluster();
    assert.deepEqual(leftovers(clusterDir), []);
  });
});
