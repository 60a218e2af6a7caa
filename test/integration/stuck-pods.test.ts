// Why a stage is stuck, on a cluster with the real scheduler and volume binding (issue 13,
// items 4 and 2): each scenario makes the canary stuck the way StatefulSets get stuck in real
// clusters, and the action must say why in one line, fail at once where waiting cannot help,
// and roll the stuck (Pending, ContainerCreating, not Ready) canary back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Container, V1StatefulSet, V1Volume } from '@kubernetes/client-node';
import { selectPrivateCluster } from '../support/private-cluster.ts';

selectPrivateCluster('stuck-pods', { scheduler: true });
const { freshNamespace } = await import('../cluster/harness.ts');
const { ensureClusterUp, stopCluster } = await import('../cluster/lifecycle.ts');
const { canaryManifest } = await import('../support/manifests.ts');
const { manifestFile, runAction } = await import('../support/run/in-process.ts');
const { CoreV1Api } = await import('@kubernetes/client-node');
const { renderReport } = await import('../../src/adapters/github/markdown/report.ts');
type TestNamespace = Awaited<ReturnType<typeof freshNamespace>>;

interface Variant {
  readonly image?: string;
  readonly volumes?: V1Volume[];
  readonly container?: Partial<V1Container>;
  readonly replicas?: number;
  /** storageClassName of the claim template (default `local`). */
  readonly claimClass?: string;
  readonly name?: string;
}

/** db with a claim template per pod, changed by `v`. */
function db(v: Variant = {}): string {
  const sts: V1StatefulSet = canaryManifest({
    name: v.name ?? 'db',
    image: v.image ?? 'registry.local/db:v1',
    replicas: v.replicas ?? 3,
    terminationGracePeriodSeconds: 0,
  });
  const spec = sts.spec!;
  const pod = spec.template.spec!;
  const container = {
    ...pod.containers[0]!,
    ...v.container,
    volumeMounts: [{ name: 'data', mountPath: '/data' }],
  };
  pod.containers = [container];
  if (v.volumes) pod.volumes = v.volumes;
  spec.volumeClaimTemplates = [
    {
      metadata: { name: 'data' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: v.claimClass ?? 'local',
        resources: { requests: { storage: '1Gi' } },
      },
    },
  ];
  return manifestFile([sts]);
}

describe('stuck canaries on a cluster with a scheduler and volume binding', () => {
  let ns: TestNamespace;
  before(async () => {
    const up = await ensureClusterUp();
    console.error(`cluster with a scheduler up in ${up.elapsedMs} ms`);
    ns = await freshNamespace('stuck');
  });
  after(async () => {
    await ns?.cleanup();
    await stopCluster();
  });

  const quick = { soak: '1s', 'stage-timeout': '12s', 'diagnose-after': '1s', steps: '1, 100%' };
  const run = (manifests: string, inputs: Record<string, string> = {}) =>
    runAction(ns, { manifests, ...quick, ...inputs });

  /** Rolls `manifests` out, expects the canary to fail and be rolled back; returns the diagnosis lines. */
  async function stuck(
    t: { diagnostic(m: string): void },
    manifests: string,
    reason: RegExp,
  ): Promise<string> {
    const result = await run(manifests);
    const all = `${result.outcome.failure}\n${result.logs.join('\n')}`;
    assert.equal(result.outcome.result, 'rolled-back', all);
    const failure = result.reports.at(-1)?.failure;
    assert.match(failure?.reason ?? '', reason, all);
    const lines = result.logs.filter((l) => l.includes('Stuck: '));
    for (const line of lines) t.diagnostic(line);
    t.diagnostic(`failure: ${result.outcome.failure}`);
    // The same lines reach the comment and the summary: while waiting, and under the failure.
    const last = result.reports.at(-1);
    assert.ok(last?.failure?.diagnosis?.length, 'the failure carries the diagnosis');
    const why = renderReport(last!);
    assert.match(why, /- \*\*Why:\*\*\n {2}- `+db-2 |- \*\*Why:\*\*\n {2}- `+few-2 /, why);
    if (!/^StorageClassNotFound$/.test(last?.failure?.reason ?? '')) {
      const waiting = result.reports.find((r) => r.stages.some((s) => s.stuck?.length));
      assert.ok(waiting, 'a report while the stage waited listed the stuck pod');
      assert.match(renderReport(waiting!), /#### ⏳ Waiting on/);
    }
    return `${result.outcome.failure ?? ''}\n${lines.join('\n')}`;
  }

  it('claims of StorageClass local are provisioned and bound; the pods are scheduled and roll out', async () => {
    const created = await run(db());
    assert.equal(created.outcome.result, 'created', created.outcome.failure);
    const rolled = await run(db({ image: 'registry.local/db:v2' }));
    assert.equal(rolled.outcome.result, 'succeeded', `${rolled.outcome.failure}\n${rolled.logs.join('\n')}`);
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: ns.name });
    assert.deepEqual(claims.items.map((c) => `${c.metadata?.name} ${c.status?.phase}`).sort(), [
      'data-db-0 Bound',
      'data-db-1 Bound',
      'data-db-2 Bound',
    ]);
    const pod = await core.readNamespacedPod({ name: 'db-2', namespace: ns.name });
    assert.equal(pod.spec?.nodeName, 'local-node', 'the scheduler placed the pod');
  });

  it('a claim of a StorageClass that does not exist fails at once, and the Pending canary is rolled back', async (t) => {
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({
      namespace: ns.name,
      body: {
        metadata: { name: 'myappdata' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'gluster-dynamic',
          resources: { requests: { storage: '1Gi' } },
        },
      },
    });
    const began = Date.now();
    const text = await stuck(
      t,
      db({
        image: 'registry.local/db:v3',
        volumes: [{ name: 'extra', persistentVolumeClaim: { claimName: 'myappdata' } }],
      }),
      /^StorageClassNotFound$/,
    );
    assert.match(
      text,
      /db-2 Pending for \d+ s: PersistentVolumeClaim myappdata is Pending: storageclass "gluster-dynamic" not found/,
    );
    assert.ok(Date.now() - began < 12_000, 'failed before the stage timeout');
    const pod = await core.readNamespacedPod({ name: 'db-2', namespace: ns.name });
    assert.equal(pod.status?.phase, 'Running', 'the canary is back on the previous revision and running');
  });

  it('a claim with no class and no matching volume says what the binder says', async (t) => {
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({
      namespace: ns.name,
      body: {
        metadata: { name: 'nothing' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: '',
          resources: { requests: { storage: '1Gi' } },
        },
      },
    });
    const text = await stuck(
      t,
      db({
        image: 'registry.local/db:v4',
        volumes: [{ name: 'extra', persistentVolumeClaim: { claimName: 'nothing' } }],
      }),
      /^StageTimeout$/,
    );
    assert.match(
      text,
      /db-2 Pending for \d+ s: PersistentVolumeClaim nothing is Pending: no persistent volumes available for this claim and no storage class is set/,
    );
    assert.match(text, /StageTimeout/, 'not fatal: a volume may still be created');
  });

  it('fewer ReadWriteOnce volumes than pods: the pod without one stays Pending', async (t) => {
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    for (const i of [1, 2]) {
      await core.createPersistentVolume({
        body: {
          metadata: { name: `${ns.name}-few-${i}` },
          spec: {
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            storageClassName: 'manual',
            hostPath: { path: `/tmp/few-${i}` },
            claimRef: { namespace: ns.name, name: `data-few-${i - 1}` },
          },
        },
      });
    }
    await core.createNamespacedPersistentVolumeClaim({
      namespace: ns.name,
      body: {
        metadata: { name: 'data-few-2' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'manual',
          resources: { requests: { storage: '1Gi' } },
        },
      },
    });
    const few = (image: string, replicas: number) =>
      db({ name: 'few', image, replicas, claimClass: 'manual' });
    const created = await run(few('registry.local/db:v1', 2));
    assert.equal(created.outcome.result, 'created', created.outcome.failure);
    // few-2 is new (replicas 2 -> 3): a rollback cannot give it a volume either.
    const result = await run(few('registry.local/db:v2', 3), { 'rollback-timeout': '3s' });
    const text = `${result.outcome.failure}\n${result.logs.join('\n')}`;
    for (const line of result.logs.filter((l) => l.includes('Stuck: '))) t.diagnostic(line);
    t.diagnostic(`failure: ${result.outcome.failure}`);
    assert.equal(result.reports.at(-1)?.failure?.reason, 'StageTimeout', text);
    // What the real binder says of a claim whose class names static volumes only, all taken; not
    // fatal (volumes of class manual exist, one may be freed).
    assert.match(
      text,
      /few-2 Pending for \d+ s: PersistentVolumeClaim data-few-2 is Pending: storageclass\.storage\.k8s\.io "manual" not found/,
    );
  });

  it('a hostPath directory that is missing keeps the canary in ContainerCreating with FailedMount events', async (t) => {
    const hostPath = { path: '/srv/statefulset-canary-missing/shared', type: 'Directory' };
    const text = await stuck(
      t,
      db({ image: 'registry.local/db:v5', volumes: [{ name: 'shared', hostPath }] }),
      /^StageTimeout$/,
    );
    assert.match(
      text,
      /db-2 ContainerCreating for \d+ s: FailedMount: MountVolume\.SetUp failed for volume "shared" : hostPath type check failed: \/srv\/statefulset-canary-missing\/shared is not a directory/,
    );
  });

  it('a readiness probe that fails says so from the Unhealthy events', async (t) => {
    const probe = { readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 2 } };
    const text = await stuck(
      t,
      db({ image: 'registry.local/db:v6-unready', container: probe }),
      /^StageTimeout$/,
    );
    assert.match(
      text,
      /db-2 Running, not Ready for \d+ s: Readiness probe failed: HTTP probe failed with statuscode: 503 \(\d+ times\)/,
    );
  });

  it('a pod the node has no room for says what the scheduler says (not fatal: an autoscaler may add room)', async (t) => {
    const big = { resources: { requests: { cpu: '5000' } } };
    const text = await stuck(t, db({ image: 'registry.local/db:v7', container: big }), /^StageTimeout$/);
    assert.match(text, /db-2 Pending for \d+ s: Unschedulable: 0\/1 nodes are available: 1 Insufficient cpu/);
  });
});
