// Rollback on the real local control plane (issue 5): automatic after a failed canary,
// manual from workflow_dispatch, staged, unsticking pods the controller will not replace.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { canaryManifest, untouched } from '../support/manifests.ts';
import { manifestFile, recordCluster, runAction } from '../support/run/in-process.ts';

const fast = { soak: '1s', 'stage-timeout': '90s' };

describe('rollback', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('rollback');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => ns.cleanup());

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
  const pods = async () => {
    const list = await core.listNamespacedPod({ namespace: ns.name });
    return new Map(
      list.items.map((p) => [
        p.metadata?.name ?? '',
        { uid: p.metadata?.uid ?? '', revision: p.metadata?.labels?.['controller-revision-hash'] ?? '' },
      ]),
    );
  };
  const rollout = async (image: string, extra: Record<string, string> = {}, replicas = 5, limit?: number) =>
    runAction(ns, {
      manifests: manifestFile([
        // Pods go at once when deleted, so a stage's pods are replaced within a second.
        canaryManifest({ image, replicas, revisionHistoryLimit: limit, terminationGracePeriodSeconds: 0 }),
      ]),
      ...fast,
      ...extra,
    });
  /** Every pod on `revision`, and the controller agrees. */
  const allOn = async (revision: string | undefined) => {
    const sts = await read();
    assert.equal(sts.status?.updateRevision, revision);
    assert.equal(sts.status?.currentRevision, revision);
    for (const [name, pod] of await pods()) assert.equal(pod.revision, revision, name);
  };

  for (const image of ['registry.local/db:v2-crashloop', 'registry.local/db:v2-badpull']) {
    it(`rolls a failed canary (${image.split(':')[1]}) back by itself, never touching pods -0..-3`, async () => {
      assert.equal((await rollout('registry.local/db:v1')).outcome.result, 'created');
      const old = (await read()).status?.currentRevision;
      const before = await pods();
      const run = await rollout(image);
      assert.equal(run.outcome.result, 'rolled-back', run.logs.join('\n'));
      assert.match(run.outcome.failure ?? '', /stage 1 failed: pod .*db-4/);
      assert.equal(run.outcome.revision, old);
      await allOn(old);
      const after = await pods();
      for (const ordinal of [0, 1, 2, 3])
        assert.equal(after.get(`db-${ordinal}`)?.uid, before.get(`db-${ordinal}`)?.uid);
      assert.equal((await read()).spec?.updateStrategy?.rollingUpdate?.partition, 0, 'partition restored');
      assert.ok(
        run.logs.some((l) => /Deleting db-4/.test(l)),
        'the stuck canary was deleted',
      );
      const last = run.reports[run.reports.length - 1];
      assert.equal(last?.verdict, 'rolled-back');
      assert.equal(last?.rollback?.state, 'succeeded');
    });
  }

  it('rolls back a failure at the second stage, with two pods on the bad revision', async () => {
    assert.equal((await rollout('registry.local/db:v1')).outcome.result, 'created');
    const old = (await read()).status?.currentRevision;
    const before = await pods();
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    // A flaky pod restarts ~2 s after it turns Ready: the canary passes a 1 s soak, then its
    // restart fails the second stage while pod -3 is already on the new revision.
    const run = await rollout('registry.local/db:v2-flaky', { steps: '1, 60%, 100%' });
    record.stop();
    assert.equal(run.outcome.result, 'rolled-back', run.logs.join('\n'));
    assert.match(run.outcome.failure ?? '', /stage 2 failed/);
    const bad = run.outcome.previousRevision;
    const onBad = new Set(record.podRevisions.filter(([, , rev]) => rev === bad).map(([, pod]) => pod));
    assert.ok(onBad.size >= 2, `pods seen on the bad revision: ${[...onBad]}`);
    await allOn(old);
    const after = await pods();
    for (const ordinal of [0, 1])
      assert.equal(after.get(`db-${ordinal}`)?.uid, before.get(`db-${ordinal}`)?.uid);
  });

  it('rolls back by hand after a successful rollout, staged, every pod back on the old revision', async () => {
    assert.equal((await rollout('registry.local/db:v1')).outcome.result, 'created');
    const old = (await read()).status?.currentRevision;
    assert.equal((await rollout('registry.local/db:v2')).outcome.result, 'succeeded');
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await runAction(ns, {
      command: 'rollback',
      statefulset: 'db',
      'rollback-steps': '1, 50%, 100%',
      reason: 'latency regression',
      ...fast,
    });
    record.stop();
    assert.equal(run.outcome.result, 'rolled-back', run.logs.join('\n'));
    assert.equal(run.outcome.failure, undefined);
    assert.equal(run.outcome.revision, old);
    assert.deepEqual(record.partitions, [0, 5, 4, 2, 0]);
    await allOn(old);
    const sts = await read();
    assert.match(
      sts.metadata?.annotations?.['kubernetes.io/change-cause'] ?? '',
      /rollback.*latency regression/,
    );
    assert.equal(sts.metadata?.annotations?.['statefulset-canary.io/phase'], 'rolled-back');
    // kubectl rollout history reads the cause from the ControllerRevision the rollback restored.
    const restored = await apps.readNamespacedControllerRevision({ name: old ?? '', namespace: ns.name });
    assert.match(
      restored.metadata?.annotations?.['kubernetes.io/change-cause'] ?? '',
      /rollback.*latency regression/,
    );
  });

  it('refuses a pruned or unknown to-revision, listing the revisions available', async () => {
    await rollout('registry.local/db:v1', {}, 2, 1);
    await rollout('registry.local/db:v2', {}, 2, 1);
    await rollout('registry.local/db:v3', {}, 2, 1);
    const before = await read();
    for (const revision of ['1', '99']) {
      await assert.rejects(
        runAction(ns, { command: 'rollback', statefulset: 'db', 'to-revision': revision, ...fast }),
        (e: Error) => {
          assert.match(
            e.message,
            new RegExp(`has no revision ${revision} \\(pruned by revisionHistoryLimit`),
          );
          assert.match(e.message, /Revisions available: 2 \(db-\w+.*\), 3 \(db-\w+/);
          return true;
        },
      );
    }
    assert.deepEqual(untouched(await read()), untouched(before));
  });

  it('records the change cause where kubectl rollout history shows it, and status prints it', async () => {
    await rollout('registry.local/db:v1', {}, 2);
    await rollout('registry.local/db:v2', {}, 2);
    const sts = await read();
    const revisions = await apps.listNamespacedControllerRevision({ namespace: ns.name });
    const current = revisions.items.find((r) => r.metadata?.name === sts.status?.updateRevision);
    assert.match(
      current?.metadata?.annotations?.['kubernetes.io/change-cause'] ?? '',
      /^statefulset-canary rollout, commit abc123, PR #7/,
    );
    const status = await runAction(ns, { command: 'status', statefulset: 'db' });
    assert.match(status.outcome.text ?? '', /REVISION\s+NAME/);
    assert.match(status.outcome.text ?? '', /statefulset-canary rollout, commit abc123/);
    assert.match(status.outcome.text ?? '', /db-1\s+/);
    assert.match(status.outcome.text ?? '', /Recorded rollout: succeeded/);
  });
});
