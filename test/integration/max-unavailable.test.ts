// maxUnavailable (issue 12, item 2), on a private control plane with the
// MaxUnavailableStatefulSet feature gate on (v1.36 declares it beta, off by default; the shared
// cluster keeps the default): the controller replaces up to maxUnavailable pods of a stage at
// once, a percentage rounded down as the controller rounds it; the partition still bounds each
// stage, the log says how many pods may be down at once, and the rollback unsticks every pod a
// failed stage replaced.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, type V1Pod, type V1StatefulSet, Watch } from '@kubernetes/client-node';
import { selectPrivateCluster } from '../support/private-cluster.ts';

selectPrivateCluster('max-unavailable', { featureGates: 'MaxUnavailableStatefulSet=true' });
const { ensureClusterUp, stopCluster } = await import('../cluster/lifecycle.ts');
const { freshNamespace, readyAfterAnnotation } = await import('../cluster/harness.ts');
const { canaryManifest } = await import('../support/manifests.ts');
const { manifestFile, recordCluster, runAction } = await import('../support/run/in-process.ts');

type Namespace = Awaited<ReturnType<typeof freshNamespace>>;

/** The most pods down (gone, terminating or not Ready) at one time, as a pod watch sees it. */
async function watchDown(ns: Namespace) {
  const core = ns.kubeConfig.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedPod({ namespace: ns.name });
  const up = new Map<string, boolean>();
  const isUp = (pod: V1Pod) =>
    pod.metadata?.deletionTimestamp === undefined &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  for (const pod of list.items) up.set(pod.metadata?.name ?? '', isUp(pod));
  const expected = up.size;
  let most = 0;
  const controller = await new Watch(ns.kubeConfig).watch(
    `/api/v1/namespaces/${ns.name}/pods`,
    { resourceVersion: list.metadata?.resourceVersion },
    (type: string, pod: V1Pod) => {
      up.set(pod.metadata?.name ?? '', type !== 'DELETED' && isUp(pod));
      const down = expected - [...up.values()].filter(Boolean).length;
      most = Math.max(most, down);
    },
    () => undefined,
  );
  return {
    most: () => most,
    stop: () => controller.abort(),
  };
}

describe('maxUnavailable with the MaxUnavailableStatefulSet feature on', () => {
  let ns: Namespace;
  before(async () => {
    const up = await ensureClusterUp();
    console.log(
      `private cluster max-unavailable: Kubernetes ${up.version}, up in ${(up.elapsedMs / 1000).toFixed(1)} s`,
    );
  });
  after(() => stopCluster());
  beforeEach(async () => {
    ns = await freshNamespace('maxunavail');
  });
  afterEach(() => ns.cleanup());

  const db = (
    image: string,
    maxUnavailable: number | string,
    podManagementPolicy: 'OrderedReady' | 'Parallel',
  ): V1StatefulSet => {
    const sts = canaryManifest({
      image,
      replicas: 5,
      podManagementPolicy,
      terminationGracePeriodSeconds: 0,
      podAnnotations: { [readyAfterAnnotation]: '2s' },
    });
    sts.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable } as never };
    return sts;
  };
  const read = () =>
    ns.kubeConfig.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ name: 'db', namespace: ns.name });

  it('replaces 2 pods at once for maxUnavailable 50% of 5 (rounded down), the canary stage only db-4', async () => {
    const fast = { soak: '0s', 'stage-timeout': '90s', steps: '1, 100%' };
    const v1 = db('registry.local/db:v1', '50%', 'Parallel');
    assert.equal((await runAction(ns, { manifests: manifestFile([v1]), ...fast })).outcome.result, 'created');
    assert.equal(
      (await read()).spec?.updateStrategy?.rollingUpdate?.maxUnavailable,
      '50%',
      'kept: the gate is on',
    );

    const plan = await runAction(ns, {
      command: 'plan',
      manifests: manifestFile([db('registry.local/db:v2', '50%', 'Parallel')]),
      ...fast,
    });
    assert.match(
      plan.outcome.text ?? '',
      /partition 5 \(frozen\), at most 2 pods down at once \(maxUnavailable 50% of 5, rounded down as the controller does\), then:/,
    );
    const down = await watchDown(ns);
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await runAction(ns, {
      manifests: manifestFile([db('registry.local/db:v2', '50%', 'Parallel')]),
      ...fast,
    });
    record.stop();
    down.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.ok(
      run.logs.some((l) =>
        l.includes(
          'at most 2 pods down at once (maxUnavailable 50% of 5, rounded down as the controller does)',
        ),
      ),
      run.logs.join('\n'),
    );
    assert.deepEqual(record.partitions, [0, 5, 4, 0]);
    // The canary stage replaced db-4 alone: the partition bounds it whatever maxUnavailable says.
    const target = run.outcome.revision;
    const stage2At = record.partitionTimes.get(0) ?? 0;
    const early = record.podRevisions
      .filter(([at, , r]) => r === target && at < stage2At)
      .map(([, pod]) => pod);
    assert.deepEqual(early, ['db-4']);
    // Two at once, never three (50% of 5 is 2.5: the controller rounds down).
    assert.equal(down.most(), 2, 'most pods down at one time');
    const sts = (await read()).status;
    assert.equal(sts?.currentRevision, target);
    assert.equal(sts?.updatedReplicas, 5);
  });

  it('rolls a canary of two crash-looping pods back, unsticking both', async () => {
    const fast = { soak: '0s', 'stage-timeout': '90s', steps: '2, 100%' };
    const v1 = db('registry.local/db:v1', 2, 'OrderedReady');
    assert.equal((await runAction(ns, { manifests: manifestFile([v1]), ...fast })).outcome.result, 'created');
    const good = (await read()).status?.currentRevision;
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await runAction(ns, {
      manifests: manifestFile([db('registry.local/db:v2-crashloop', 2, 'OrderedReady')]),
      ...fast,
    });
    record.stop();
    assert.equal(run.outcome.result, 'rolled-back', run.logs.join('\n'));
    assert.match(
      run.outcome.failure ?? '',
      /stage 1 failed: pod [^ ]+\/db-[34], container app: CrashLoopBackOff/,
    );
    assert.ok(
      run.logs.some((l) => l.includes('at most 2 pods down at once (maxUnavailable 2)')),
      run.logs.join('\n'),
    );
    const sts = await read();
    assert.equal(sts.status?.currentRevision, good);
    assert.equal(sts.status?.updateRevision, good);
    assert.equal(sts.status?.readyReplicas, 5);
    assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.partition, 0, 'the original partition');
    const bad = new Set(record.podRevisions.filter(([, , r]) => r !== good).map(([, pod]) => pod));
    assert.ok(
      [...bad].every((p) => p === 'db-3' || p === 'db-4'),
      `only the canary stage's pods: ${[...bad]}`,
    );
  });
});
