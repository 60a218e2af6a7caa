// StatefulSets with `spec.ordinals.start` (issue 12, item 1), on the real controller: the
// partition counts pods by index (ordinal - start), so with start 10 and five replicas the
// canary is db-14 and the last stage ends at db-10. Logs, reports and outputs name ordinals.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { canaryManifest, untouched } from '../support/manifests.ts';
import { manifestFile, recordCluster, runAction } from '../support/run/in-process.ts';

const fast = { soak: '0s', 'stage-timeout': '60s', steps: '1, 50%, 100%' };

describe('start ordinals', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('ordinals');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
  });
  afterEach(() => ns.cleanup());

  const db = (image: string, ordinalsStart = 10) =>
    canaryManifest({ image, replicas: 5, ordinalsStart, terminationGracePeriodSeconds: 0 });
  const rollout = (manifests: readonly V1StatefulSet[], extra: Record<string, string> = {}) =>
    runAction(ns, { manifests: manifestFile(manifests), ...fast, ...extra });
  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });

  it('canaries db-14 first and steps down to db-10, naming ordinals in the log, stages and plan', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    const plan = await runAction(ns, {
      command: 'plan',
      manifests: manifestFile([db('registry.local/db:v2')]),
      ...fast,
    });
    assert.match(plan.outcome.text ?? '', /stage 1: partition 4, restarts ordinal 14 on the new revision/);
    assert.match(
      plan.outcome.text ?? '',
      /stage 3: partition 0, restarts ordinal 11, 10 on the new revision/,
    );

    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await rollout([db('registry.local/db:v2')]);
    record.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.deepEqual(record.partitions, [0, 5, 4, 2, 0]);
    assert.deepEqual(
      run.outcome.stages.map((s) => [s.partition, s.ordinals]),
      [
        [4, [14]],
        [2, [13, 12]],
        [0, [11, 10]],
      ],
    );
    assert.ok(
      run.logs.some((l) => /Stage 1\/3: partition 4 \(updates ordinal 14\)/.test(l)),
      run.logs.join('\n'),
    );
    const target = run.outcome.revision;
    const order = record.podRevisions.filter(([, , revision]) => revision === target).map(([, pod]) => pod);
    assert.deepEqual(order, ['db-14', 'db-13', 'db-12', 'db-11', 'db-10']);
    const status = await runAction(ns, { command: 'status', statefulset: 'db' });
    assert.match(status.outcome.text ?? '', /5 replicas \(ordinals 10\.\.14;/);
    assert.match(status.outcome.text ?? '', /\n14 +4 +db-14 /);
  });

  it('rolls a crash-looping canary db-14 back and leaves db-10..db-13 untouched', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    const before = (await read()).status?.currentRevision;
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await rollout([db('registry.local/db:v2-crashloop')]);
    record.stop();
    assert.equal(run.outcome.result, 'rolled-back', run.logs.join('\n'));
    assert.match(
      run.outcome.failure ?? '',
      /stage 1 failed: pod [^ ]+\/db-14, container app: CrashLoopBackOff/,
    );
    const touched = new Set(record.podRevisions.filter(([, , r]) => r !== before).map(([, pod]) => pod));
    assert.deepEqual([...touched], ['db-14']);
    const sts = (await read()).status;
    assert.equal(sts?.currentRevision, before);
    assert.equal(sts?.updateRevision, before);
  });

  it('refuses a rollout that also changes ordinals.start, before anything changes', async () => {
    assert.equal((await rollout([db('registry.local/db:v1')])).outcome.result, 'created');
    const before = await read();
    await assert.rejects(rollout([db('registry.local/db:v2', 0)]), (error: Error) => {
      assert.equal(error.name, 'ValidationError');
      assert.match(error.message, /changes spec\.ordinals\.start from 10 to 0/);
      assert.match(error.message, /ordinals 10\.\.14 and create 0\.\.4 at once, whatever the partition/);
      assert.match(error.message, /Nothing was changed in the cluster/);
      return true;
    });
    const after = await read();
    assert.deepEqual(untouched(after), untouched(before));
  });
});
