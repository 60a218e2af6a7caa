// The canary promise (issue 11): every way a rollout was found to update pods ungated, leave
// the live template drifted from the manifests, or report the wrong thing, each on the real
// local control plane.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { canaryManifest, untouched } from '../support/manifests.ts';
import { manifestFile, recordCluster, runAction } from '../support/run/in-process.ts';

const fast = { soak: '0s', 'stage-timeout': '60s', steps: '1, 100%' };

describe('the canary promise', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('promise');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => ns.cleanup());

  const read = (name = 'db') => apps.readNamespacedStatefulSet({ name, namespace: ns.name });
  const pods = async () => {
    const list = await core.listNamespacedPod({ namespace: ns.name });
    return new Map(
      list.items.map((p) => [
        p.metadata?.name ?? '',
        {
          uid: p.metadata?.uid ?? '',
          revision: p.metadata?.labels?.['controller-revision-hash'] ?? '',
          containers: (p.spec?.containers ?? []).map((c) => c.name),
          env: (p.spec?.containers ?? []).flatMap((c) => (c.env ?? []).map((e) => e.name)),
        },
      ]),
    );
  };
  const db = (image: string, replicas = 3) =>
    canaryManifest({ image, replicas, terminationGracePeriodSeconds: 0 });
  const rollout = (
    manifests: readonly V1StatefulSet[] | readonly object[],
    extra: Record<string, string> = {},
  ) => runAction(ns, { manifests: manifestFile(manifests), ...fast, ...extra });
  const patchSts = (body: object, fieldManager: string) =>
    apps.patchNamespacedStatefulSet(
      { name: 'db', namespace: ns.name, body, fieldManager },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

  it('makes the live template exactly the manifests after a rollback (no sidecar or env left behind)', async () => {
    const v1 = db('registry.local/db:v1');
    const spec = v1.spec!.template.spec!;
    spec.containers = [
      { name: 'app', image: 'registry.local/db:v1', env: [{ name: 'LEGACY_MODE', value: 'on' }] },
      { name: 'sidecar', image: 'registry.local/sidecar:v1' },
    ];
    assert.equal((await rollout([v1])).outcome.result, 'created');
    assert.equal((await rollout([db('registry.local/db:v2')])).outcome.result, 'succeeded');
    const back = await runAction(ns, { command: 'rollback', statefulset: 'db', ...fast });
    assert.equal(back.outcome.result, 'rolled-back', back.logs.join('\n'));
    const v3 = await rollout([db('registry.local/db:v3')]);
    assert.equal(v3.outcome.result, 'succeeded', v3.logs.join('\n'));
    const template = (await read()).spec?.template.spec;
    assert.deepEqual(
      template?.containers.map((c) => [c.name, c.image, c.env]),
      [['app', 'registry.local/db:v3', undefined]],
    );
    for (const [name, pod] of await pods()) {
      assert.deepEqual(pod.containers, ['app'], name);
      assert.deepEqual(pod.env, [], name);
    }
    const again = await rollout([db('registry.local/db:v3')]);
    assert.equal(again.outcome.result, 'no-change');
  });

  it('rolls out over the pods of a StatefulSet deleted with --cascade=orphan as an update, canary first', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    const before = await pods();
    const old = (await read()).status?.currentRevision;
    await apps.deleteNamespacedStatefulSet({ name: 'db', namespace: ns.name, propagationPolicy: 'Orphan' });
    await waitFor(
      async () => (await apps.listNamespacedStatefulSet({ namespace: ns.name })).items.length === 0,
      30_000,
      'the StatefulSet to go',
    );
    const bad = await rollout([db('registry.local/db:v2-crashloop')]);
    assert.equal(bad.outcome.result, 'rolled-back', bad.logs.join('\n'));
    assert.match(bad.outcome.failure ?? '', /stage 1 failed: pod .*db-2/);
    assert.equal(bad.outcome.revision, old, 'back on the revision the orphaned pods ran');
    const after = await pods();
    for (const name of ['db-0', 'db-1'])
      assert.equal(after.get(name)?.uid, before.get(name)?.uid, `${name} untouched`);
    for (const [name, pod] of after) assert.equal(pod.revision, old, name);
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const good = await rollout([db('registry.local/db:v2')]);
    record.stop();
    assert.equal(good.outcome.result, 'succeeded', good.logs.join('\n'));
    assert.deepEqual(record.partitions, [0, 3, 2, 0]);
  });

  it('uses the live replica count when the manifest leaves replicas out, and never changes it', async () => {
    assert.equal((await rollout([db('registry.local/db:v1', 3)])).outcome.result, 'created');
    await patchSts({ spec: { replicas: 5 } }, 'kubectl-scale');
    await waitFor(async () => (await read()).status?.readyReplicas === 5, 60_000, '5 ready replicas');
    const v2 = db('registry.local/db:v2');
    delete v2.spec!.replicas;
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await rollout([v2], { steps: '1, 50%, 100%' });
    record.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.deepEqual(record.partitions, [0, 5, 4, 2, 0]);
    assert.equal((await read()).spec?.replicas, 5);
    const order = record.podRevisions
      .filter(([, , rev]) => rev === run.outcome.revision)
      .map(([, pod]) => pod);
    assert.equal(order[0], 'db-4', 'the canary is the highest ordinal of the live count');
  });

  it('halts within seconds, naming who, when someone else lowers the partition during a soak', async () => {
    assert.equal((await rollout([db('registry.local/db:v1', 5)])).outcome.result, 'created');
    const running = rollout([db('registry.local/db:v2', 5)], { soak: '5m', steps: '1, 50%, 100%' });
    await waitFor(
      async () => {
        const sts = await read();
        const canary = (await pods()).get('db-4');
        return (
          sts.spec?.updateStrategy?.rollingUpdate?.partition === 4 &&
          canary?.revision === sts.status?.updateRevision
        );
      },
      60_000,
      'the canary on the new revision',
    );
    await patchSts({ spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, 'kubectl-patch');
    const run = await running;
    assert.equal(run.outcome.result, 'halted', run.logs.join('\n'));
    assert.match(run.outcome.failure ?? '', /partition was changed from 4 to 0 by kubectl-patch/);
    assert.equal(
      (await read()).spec?.updateStrategy?.rollingUpdate?.partition,
      4,
      'set back to the stage’s partition',
    );
  });

  it('keeps the pods the plan has not reached frozen when the replica count changes mid-rollout', async () => {
    assert.equal((await rollout([db('registry.local/db:v1', 3)])).outcome.result, 'created');
    const old = (await read()).status?.currentRevision;
    const running = rollout([db('registry.local/db:v2', 3)], { soak: '5m', steps: '1, 100%' });
    await waitFor(
      async () => {
        const sts = await read();
        const canary = (await pods()).get('db-2');
        return (
          sts.spec?.updateStrategy?.rollingUpdate?.partition === 2 &&
          canary?.revision === sts.status?.updateRevision
        );
      },
      60_000,
      'the canary on the new revision',
    );
    await patchSts({ spec: { replicas: 5 } }, 'kubectl-scale');
    const run = await running;
    assert.equal(run.outcome.result, 'halted', run.logs.join('\n'));
    assert.match(run.outcome.failure ?? '', /replicas changed from 3 to 5/);
    assert.equal(
      (await read()).spec?.updateStrategy?.rollingUpdate?.partition,
      5,
      'frozen up to the new count',
    );
    await waitFor(async () => (await read()).status?.readyReplicas === 5, 60_000, '5 ready replicas');
    const now = await pods();
    for (const name of ['db-0', 'db-1']) assert.equal(now.get(name)?.revision, old, `${name} untouched`);
    // A pod the controller created before the partition was raised is named as ungated, if any.
    for (const name of ['db-3', 'db-4']) {
      if (now.get(name)?.revision !== old) assert.match(run.outcome.failure ?? '', new RegExp(name));
    }
  });

  it('fixes forward after a halted crash loop: the pod stuck on the halted revision is replaced', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    const halted = await rollout([db('registry.local/db:v2-crashloop')], { 'on-failure': 'halt' });
    assert.equal(halted.outcome.result, 'halted');
    const fixed = await rollout([db('registry.local/db:v3')]);
    assert.equal(fixed.outcome.result, 'succeeded', fixed.logs.join('\n'));
    assert.ok(
      fixed.logs.some((l) => /Deleting db-2/.test(l)),
      'the stuck pod was deleted',
    );
  });

  it('skips the revision that just failed when rolling back after an automatic rollback', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    const v1 = (await read()).status?.currentRevision;
    assert.equal((await rollout([db('registry.local/db:v2')])).outcome.result, 'succeeded');
    const failed = await rollout([db('registry.local/db:v3-crashloop')]);
    assert.equal(failed.outcome.result, 'rolled-back');
    const back = await runAction(ns, { command: 'rollback', statefulset: 'db', ...fast });
    assert.equal(back.outcome.result, 'rolled-back', back.logs.join('\n'));
    assert.equal(back.outcome.revision, v1, 'v1, not the v3 that failed');
    assert.ok(
      back.logs.some((l) => /Skipping revision \d+ .*canary failed/.test(l)),
      back.logs.join('\n'),
    );
  });

  it('refuses to "roll back" to the revision a cancelled rollout was rolling out', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    const cancel = new AbortController();
    const running = runAction(
      ns,
      { manifests: manifestFile([db('registry.local/db:v2')]), ...fast, soak: '5m' },
      cancel.signal,
    );
    await waitFor(
      async () => (await read()).spec?.updateStrategy?.rollingUpdate?.partition === 2,
      60_000,
      'stage 1',
    );
    cancel.abort();
    assert.equal((await running).outcome.result, 'cancelled');
    // The controller goes on with the canary the cancelled stage let through: let it settle, so
    // its status writes are not taken for a change the refused rollback made.
    await waitFor(
      async () => {
        const status = (await read()).status;
        return status?.updatedReplicas === 1 && status.readyReplicas === 3 && status.availableReplicas === 3;
      },
      60_000,
      'the canary Ready on v2',
    );
    const live = await read();
    const history = await apps.listNamespacedControllerRevision({ namespace: ns.name });
    const v2 = history.items.find((r) => r.metadata?.name === live.status?.updateRevision);
    const before = untouched(live);
    await assert.rejects(
      runAction(ns, { command: 'rollback', statefulset: 'db', 'to-revision': String(v2?.revision), ...fast }),
      /target of a rollout still in progress.*would roll that change forward/,
    );
    assert.deepEqual(untouched(await read()), before, 'nothing changed');
  });

  it('never takes a failed rollback’s leftover partition as the original one', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    const failed = await rollout([db('registry.local/db:v2-crashloop')], { 'rollback-timeout': '1ms' });
    assert.equal(failed.outcome.result, 'failed', failed.logs.join('\n'));
    assert.match(failed.outcome.failure ?? '', /rollback did not finish within rollback-timeout/);
    assert.equal(
      (await read()).spec?.updateStrategy?.rollingUpdate?.partition,
      2,
      'left where the stage put it',
    );
    const again = await rollout([db('registry.local/db:v3-crashloop')]);
    assert.equal(again.outcome.result, 'rolled-back', again.logs.join('\n'));
    assert.equal(
      (await read()).spec?.updateStrategy?.rollingUpdate?.partition,
      0,
      'the partition from before v2',
    );
  });

  it('names the pod that failed the gate when a stage times out', async () => {
    assert.equal((await rollout([db('registry.local/db:v1', 5)])).outcome.result, 'created');
    const run = await rollout([db('registry.local/db:v2-unready', 5)], {
      steps: '2, 100%',
      'stage-timeout': '3s',
      'on-failure': 'halt',
    });
    assert.equal(run.outcome.result, 'halted');
    assert.match(run.outcome.failure ?? '', /pod [^ ]+\/db-4: StageTimeout/);
    assert.doesNotMatch(run.outcome.failure ?? '', /db-3/);
  });

  it('applies a Namespace before the StatefulSet in it on a first deploy', async () => {
    const name = `${ns.name}-new`;
    const sts = db('registry.local/db:v1', 1);
    sts.metadata = { ...sts.metadata, namespace: name };
    try {
      const run = await rollout([sts, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }]);
      assert.equal(run.outcome.result, 'created', run.logs.join('\n'));
      assert.equal(
        (await apps.readNamespacedStatefulSet({ name: 'db', namespace: name })).status?.readyReplicas,
        1,
      );
    } finally {
      await core.deleteNamespace({ name }).catch(() => undefined);
    }
  });

  it('keeps kubernetes.io/change-cause on a rerun that changes nothing', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    assert.equal((await rollout([db('registry.local/db:v2')])).outcome.result, 'succeeded');
    const cause = (await read()).metadata?.annotations?.['kubernetes.io/change-cause'];
    assert.match(cause ?? '', /statefulset-canary rollout/);
    assert.equal((await rollout([db('registry.local/db:v2')])).outcome.result, 'no-change');
    assert.equal((await read()).metadata?.annotations?.['kubernetes.io/change-cause'], cause);
  });

  it('records success for a template change of a StatefulSet scaled to zero', async () => {
    assert.equal((await rollout([db('registry.local/db:v1', 0)])).outcome.result, 'created');
    const run = await rollout([db('registry.local/db:v2', 0)]);
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.equal((await read()).metadata?.annotations?.['statefulset-canary.io/phase'], 'succeeded');
  });

  it('describes every StatefulSet of a run in the outputs, and can roll the others back too', async () => {
    const both = (a: string, b: string) => [
      canaryManifest({ name: 'db-a', image: a, replicas: 2, terminationGracePeriodSeconds: 0 }),
      canaryManifest({ name: 'db-b', image: b, replicas: 2, terminationGracePeriodSeconds: 0 }),
    ];
    assert.equal(
      (await rollout(both('registry.local/db:v1', 'registry.local/db:v1'))).outcome.result,
      'created',
    );
    const a1 = (await read('db-a')).status?.currentRevision;
    const b1 = (await read('db-b')).status?.currentRevision;
    const keep = await rollout(both('registry.local/db:v2', 'registry.local/db:v2-crashloop'));
    assert.equal(keep.outcome.result, 'rolled-back');
    assert.equal(keep.outcome.revision, b1, 'the revision of the StatefulSet that set the result');
    assert.deepEqual(
      keep.outcome.statefulSets.map((s) => [s.statefulSet.split('/')[1], s.result]),
      [
        ['db-a', 'succeeded'],
        ['db-b', 'rolled-back'],
      ],
    );
    assert.notEqual((await read('db-a')).status?.currentRevision, a1, 'db-a kept its new revision');
    const all = await rollout(both('registry.local/db:v3', 'registry.local/db:v3-crashloop'), {
      'on-failure-others': 'rollback',
    });
    assert.equal(all.outcome.result, 'rolled-back', all.logs.join('\n'));
    assert.deepEqual(
      all.outcome.statefulSets.map((s) => [s.statefulSet.split('/')[1], s.result]),
      [
        ['db-a', 'rolled-back'],
        ['db-b', 'rolled-back'],
      ],
    );
    const a = await read('db-a');
    assert.equal(a.status?.updateRevision, a.status?.currentRevision);
    assert.equal(a.spec?.template.spec?.containers[0]?.image, 'registry.local/db:v2', 'db-a back on v2');
  });
});
