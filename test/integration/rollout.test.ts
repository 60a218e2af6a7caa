// The staged canary rollout on the real local control plane (issue 3's behaviours).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { canaryManifest, untouched } from '../support/manifests.ts';
import { manifestFile, recordCluster, runAction } from '../support/run/in-process.ts';

const fast = { soak: '2s', 'stage-timeout': '2m', 'on-failure': 'halt' };

describe('staged canary rollout', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('rollout');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => ns.cleanup());

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
  const uids = async () => {
    const pods = await core.listNamespacedPod({ namespace: ns.name });
    return new Map(pods.items.map((p) => [p.metadata?.name ?? '', p.metadata?.uid ?? '']));
  };
  const create = async (image = 'registry.local/db:v1', replicas = 5) => {
    const run = await runAction(ns, {
      manifests: manifestFile([canaryManifest({ image, replicas })]),
      ...fast,
    });
    assert.equal(run.outcome.result, 'created', run.logs.join('\n'));
  };

  it('creates a new StatefulSet, waits until it is Ready and reports no canary stages', async () => {
    const run = await runAction(ns, {
      manifests: manifestFile([canaryManifest({ replicas: 3 })]),
      ...fast,
    });
    assert.equal(run.outcome.result, 'created');
    const sts = await read();
    assert.equal(sts.status?.readyReplicas, 3);
    assert.equal(run.outcome.previousRevision, undefined);
    assert.equal(run.outcome.revision, sts.status?.updateRevision);
  });

  it('rolls 5 replicas out through partitions 5, 4, 2, 0, canary first, soaking each stage', async () => {
    await create();
    const before = await uids();
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await runAction(ns, {
      manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2' })]),
      ...fast,
    });
    record.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.deepEqual(record.partitions, [0, 5, 4, 2, 0]);
    const sts = await read();
    assert.equal(sts.status?.currentRevision, sts.status?.updateRevision);
    assert.equal(run.outcome.revision, sts.status?.updateRevision);
    const updates = record.podRevisions.filter(([, , rev]) => rev === sts.status?.updateRevision);
    assert.deepEqual(
      updates.map(([, pod]) => pod),
      ['db-4', 'db-3', 'db-2', 'db-1', 'db-0'],
    );
    // Pod -4 was the only pod on the new revision for at least the soak.
    const canaryAt = updates[0]?.[0] ?? 0;
    const secondAt = updates[1]?.[0] ?? 0;
    assert.ok(secondAt - canaryAt >= 2000, `second pod updated ${secondAt - canaryAt} ms after the canary`);
    // Pods below the partition were not restarted while a stage ran: each was replaced once, by its own stage.
    const after = await uids();
    for (const [pod, uid] of before) {
      assert.equal(record.uids.get(pod)?.length, 2, `${pod} uids ${record.uids.get(pod)}`);
      assert.notEqual(after.get(pod), uid);
    }
    const partition2At = record.partitionTimes.get(2) ?? 0;
    for (const [at, pod] of updates) {
      if (pod === 'db-1' || pod === 'db-0') assert.ok(at >= (record.partitionTimes.get(0) ?? 0));
      if (pod === 'db-3' || pod === 'db-2') assert.ok(at >= partition2At);
    }
    const stages = run.outcome.stages.map((s) => [s.partition, s.verdict]);
    assert.deepEqual(stages, [
      [4, 'passed'],
      [2, 'passed'],
      [0, 'passed'],
    ]);
    assert.ok(run.logs.some((l) => l.startsWith('group: Stage 1/3: partition 4')));
  });

  it('leaves everything as it was when the template is unchanged', async () => {
    await create();
    const before = await read();
    const pods = await uids();
    const run = await runAction(ns, {
      manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v1' })]),
      ...fast,
    });
    assert.equal(run.outcome.result, 'no-change');
    const after = await read();
    assert.deepEqual(await uids(), pods);
    assert.equal(
      after.spec?.updateStrategy?.rollingUpdate?.partition,
      before.spec?.updateStrategy?.rollingUpdate?.partition,
    );
    assert.equal(after.status?.updateRevision, before.status?.updateRevision);
  });

  it('scales 3 to 5 and updates together: new pods start on the old revision, then the canary covers 5', async () => {
    await create('registry.local/db:v1', 3);
    const old = (await read()).status?.currentRevision;
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await runAction(ns, {
      manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 5 })]),
      ...fast,
    });
    record.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    const first3 = record.podRevisions.filter(([, pod]) => pod === 'db-3');
    assert.equal(first3[0]?.[2], old, 'db-3 started on the old revision');
    assert.deepEqual(record.partitions, [0, 5, 4, 2, 0]);
  });

  const failFast: [string, string, RegExp][] = [
    ['CrashLoopBackOff', 'registry.local/db:v2-crashloop', /db-4.*app.*CrashLoopBackOff|CrashLoopBackOff/],
    ['ImagePullBackOff', 'registry.local/db:v2-badpull', /ImagePullBackOff/],
  ];
  for (const [reason, image, pattern] of failFast) {
    it(`halts a canary in ${reason} without waiting for the stage timeout, touching no other pod`, async () => {
      await create();
      const pods = await uids();
      const run = await runAction(ns, { manifests: manifestFile([canaryManifest({ image })]), ...fast });
      assert.equal(run.outcome.result, 'halted');
      // Not at the stage timeout (2 minutes): the failure is the pod's state, not StageTimeout.
      assert.doesNotMatch(run.outcome.failure ?? '', /StageTimeout/);
      assert.match(run.outcome.failure ?? '', pattern);
      assert.match(run.outcome.failure ?? '', /stage 1/);
      assert.match(run.outcome.failure ?? '', /pod .*db-4/);
      assert.equal((await read()).spec?.updateStrategy?.rollingUpdate?.partition, 4);
      const now = await uids();
      for (const pod of ['db-0', 'db-1', 'db-2', 'db-3']) assert.equal(now.get(pod), pods.get(pod), pod);
    });
  }

  it('fails an unready canary at the stage timeout', async () => {
    await create();
    const started = Date.now();
    const run = await runAction(ns, {
      manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2-unready' })]),
      ...fast,
      'stage-timeout': '6s',
    });
    const took = Date.now() - started;
    assert.equal(run.outcome.result, 'halted');
    assert.match(run.outcome.failure ?? '', /StageTimeout/);
    assert.match(run.outcome.failure ?? '', /db-4/);
    assert.ok(took >= 6000, `took ${took} ms`);
  });

  for (const [maxRestarts, expected] of [
    ['0', 'halted'],
    ['1', 'succeeded'],
  ] as const) {
    it(`gives a flaky canary (one restart during the soak) ${expected} with max-restarts ${maxRestarts}`, async () => {
      await create('registry.local/db:v1', 2);
      const run = await runAction(ns, {
        manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2-flaky', replicas: 2 })]),
        ...fast,
        soak: '4s',
        'max-restarts': maxRestarts,
      });
      assert.equal(run.outcome.result, expected, run.logs.join('\n'));
      if (expected === 'halted') assert.match(run.outcome.failure ?? '', /TooManyRestarts/);
    });
  }

  it('refuses a change the API server forbids before changing anything', async () => {
    await create('registry.local/db:v1', 2);
    const before = await read();
    const changed = canaryManifest({ image: 'registry.local/db:v2', replicas: 2 });
    changed.spec = {
      ...changed.spec!,
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    };
    const file = manifestFile([changed]);
    await assert.rejects(runAction(ns, { manifests: file, ...fast }), (error: Error) => {
      assert.match(error.message, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(error.message, /StatefulSet .*db/);
      assert.match(error.message, /recreate the StatefulSet/);
      return true;
    });
    assert.deepEqual(untouched(await read()), untouched(before));
  });

  const invalid: [string, (file: string) => void, RegExp][] = [
    ['unparseable YAML', (f) => writeFileSync(f, 'apiVersion: apps/v1\nkind: [StatefulSet\n'), /YAML|parse/i],
    [
      'no StatefulSet',
      (f) => writeFileSync(f, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n'),
      /StatefulSet/,
    ],
    [
      'an OnDelete StatefulSet',
      (f) => {
        const sts = canaryManifest({ image: 'registry.local/db:v2', replicas: 2 });
        sts.spec!.updateStrategy = { type: 'OnDelete' };
        writeFileSync(f, JSON.stringify(sts));
      },
      /OnDelete/,
    ],
  ];
  for (const [what, write, pattern] of invalid) {
    it(`refuses ${what} with the file named, leaving the StatefulSet untouched`, async () => {
      await create('registry.local/db:v1', 2);
      const before = await read();
      const file = manifestFile([]);
      write(file);
      await assert.rejects(runAction(ns, { manifests: file, ...fast }), (error: Error) => {
        assert.match(error.message, pattern);
        assert.ok(error.message.includes(file), error.message);
        return true;
      });
      assert.deepEqual(untouched(await read()), untouched(before));
    });
  }
});
