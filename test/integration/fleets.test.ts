// Fleets on the real control plane (issue 25, item 4): waves of 3 + 2 StatefulSets in parallel
// with a failure in the second wave (the first stays, the second rolls back as on-failure-others
// asks), a cancel during a parallel wave that a rerun finishes, and a lost lock that stops them all. The partitions of every
// StatefulSet come from a watch, to show each was staged on its own and the ones of a wave at
// the same time. On a private cluster (fleets), so its five StatefulSets at once load no one else.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { selectPrivateCluster } from '../support/private-cluster.ts';

selectPrivateCluster('fleets');
const { ensureClusterUp, stopCluster } = await import('../cluster/lifecycle.ts');
const { freshNamespace } = await import('../cluster/harness.ts');
const { canaryManifest } = await import('../support/manifests.ts');
const { manifestFile, runAction } = await import('../support/run/in-process.ts');
const { partitionsOf, stagedSpan, watchPartitions } = await import('../support/partition-watch.ts');

type Namespace = Awaited<ReturnType<typeof freshNamespace>>;

const replicas = 3;
// Stages 1, 50%, 100% of 3 replicas: partitions 3 (frozen), 2, 1, 0.
const STAGED = [3, 2, 1, 0];
const fast = { soak: '2s', 'stage-timeout': '60s', 'max-parallel': '4' };
const sts = (name: string, image: string) =>
  canaryManifest({ name, image, replicas, terminationGracePeriodSeconds: 0 });

/** Whether `list` holds `want` in order (other values may come between). */
const holdsInOrder = (list: readonly number[], want: readonly number[]) => {
  let i = 0;
  for (const p of list) if (p === want[i]) i++;
  return i === want.length;
};

before(() => ensureClusterUp());
after(() => stopCluster());

describe('waves of StatefulSets', () => {
  let ns: Namespace;
  let apps: AppsV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('fleets');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
  });
  afterEach(() => ns.cleanup());
  const image = (name: string) =>
    apps
      .readNamespacedStatefulSet({ name, namespace: ns.name })
      .then((s) => s.spec?.template.spec?.containers[0]?.image);

  it('rolls a wave of 3 out in parallel, then a wave of 2; a failure in the second rolls it back and keeps the first', async () => {
    const waves = '- name: first\n  statefulsets: ["a-*"]\n- name: second\n  statefulsets: [b-1, b-2]';
    const all = (a: string, b1: string, b2: string) => [
      sts('a-1', a),
      sts('a-2', a),
      sts('a-3', a),
      sts('b-1', b1),
      sts('b-2', b2),
    ];
    const v1 = 'registry.local/db:v1';
    const created = await runAction(ns, { manifests: manifestFile(all(v1, v1, v1)), waves, ...fast });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
    const watch = await watchPartitions(ns.kubeConfig, ns.name);
    const since = Date.now();
    const v2 = 'registry.local/db:v2';
    const run = await runAction(ns, {
      manifests: manifestFile(all(v2, v2, 'registry.local/db:v2-crashloop')),
      waves,
      'on-failure-others': 'rollback-wave',
      ...fast,
    });
    watch.stop();
    // The reporters were told the whole fleet once, before the first StatefulSet started.
    assert.deepEqual(
      run.fleets.map((f) =>
        f.waves.map((w) => [w.name, w.members.map((m) => `${m.context}/${m.namespace}/${m.name}`)]),
      ),
      [
        [
          ['first', ['a-1', 'a-2', 'a-3'].map((n) => `local/${ns.name}/${n}`)],
          ['second', ['b-1', 'b-2'].map((n) => `local/${ns.name}/${n}`)],
        ],
      ],
    );
    assert.ok(run.reports.length > 0 && run.reports.every((r) => r.context === 'local'));
    const results = Object.fromEntries(
      run.outcome.statefulSets.map((s) => [s.statefulSet.split('/')[1], s.result]),
    );
    assert.deepEqual(
      results,
      {
        'a-1': 'succeeded',
        'a-2': 'succeeded',
        'a-3': 'succeeded',
        'b-1': 'rolled-back',
        'b-2': 'rolled-back',
      },
      run.logs.join('\n'),
    );
    for (const name of ['a-1', 'a-2', 'a-3']) {
      assert.equal(await image(name), v2, `${name} kept its new revision`);
      assert.ok(
        holdsInOrder(partitionsOf(watch.history, name, since), STAGED),
        `${name} went through its own stages`,
      );
    }
    for (const name of ['b-1', 'b-2']) assert.equal(await image(name), v1, `${name} is back on v1`);
    // b-1 was still rolling out when b-2 failed: stopped (before its next partition write), then rolled back.
    const verdicts = (name: string) => run.reports.filter((r) => r.name === name).map((r) => r.verdict);
    assert.ok(verdicts('b-1').includes('cancelled'), `b-1 stopped in flight: ${verdicts('b-1').join(', ')}`);
    assert.equal(verdicts('b-1').at(-1), 'rolled-back');
    // The first wave in parallel: each began its stages before any other finished them.
    const spans = ['a-1', 'a-2', 'a-3'].map((n) => stagedSpan(watch.history, n, since));
    const latestStart = Math.max(...spans.map(([s]) => s));
    const earliestEnd = Math.min(...spans.map(([, e]) => e));
    assert.ok(latestStart < earliestEnd, `the first wave overlapped: ${JSON.stringify(spans)}`);
    // The second wave only after the first: its first partition change follows the first wave's last.
    const firstDone = Math.max(...spans.map(([, e]) => e));
    for (const name of ['b-1', 'b-2']) {
      const moved = (watch.history.get(name) ?? []).filter(([t]) => t >= since);
      assert.ok(
        moved.length > 0 && (moved[0]?.[0] ?? 0) >= firstDone,
        `${name} started after the first wave`,
      );
    }
    // Lines of parallel StatefulSets say whose they are.
    assert.ok(
      run.logs.some((l) => l.includes(`[${ns.name}/a-2] `)),
      'prefixed log lines',
    );
  });

  it('stops every StatefulSet of a wave on cancel, each where it was; a rerun finishes each from there', async () => {
    const names = ['c-1', 'c-2', 'c-3'];
    const manifests = (image: string) => manifestFile(names.map((n) => sts(n, image)));
    const inputs = { waves: '- ["c-*"]', ...fast, soak: '4s' };
    const created = await runAction(ns, { manifests: manifests('registry.local/db:v1'), ...inputs });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
    const watch = await watchPartitions(ns.kubeConfig, ns.name);
    const since = Date.now();
    const cancel = new AbortController();
    const v2 = manifests('registry.local/db:v2');
    // Cancel once every one of them is in its second stage (partition 1): all three in flight.
    const inStage2 = watch
      .until((h) => names.every((n) => partitionsOf(h, n, since).includes(1)), 'all three at partition 1')
      .then(() => cancel.abort());
    const cancelled = await runAction(ns, { manifests: v2, ...inputs }, cancel.signal);
    await inStage2;
    assert.equal(cancelled.outcome.result, 'cancelled', cancelled.logs.join('\n'));
    for (const name of names) {
      const live = await apps.readNamespacedStatefulSet({ name, namespace: ns.name });
      assert.equal(live.metadata?.annotations?.['statefulset-canary.io/phase'], 'cancelled', name);
      assert.equal(live.spec?.updateStrategy?.rollingUpdate?.partition, 1, `${name} stopped at its stage`);
    }
    const resumedAt = Date.now();
    const rerun = await runAction(ns, { manifests: v2, ...inputs });
    watch.stop();
    assert.deepEqual(
      rerun.outcome.statefulSets.map((s) => s.result),
      ['succeeded', 'succeeded', 'succeeded'],
      rerun.logs.join('\n'),
    );
    for (const name of names)
      assert.deepEqual(
        partitionsOf(watch.history, name, resumedAt),
        [0],
        `${name} resumed at partition 1, not frozen again`,
      );
  });

  it('stops every StatefulSet of the run where it is when one loses its lock, naming that lock', async () => {
    const names = ['l-1', 'l-2', 'l-3'];
    const manifests = (image: string) => manifestFile(names.map((n) => sts(n, image)));
    // A soak of 20 s: the lock is renewed every 10 s, so the loss is seen within stage 2's soak.
    const inputs = { waves: '- ["l-*"]', ...fast, soak: '20s' };
    const created = await runAction(ns, {
      manifests: manifests('registry.local/db:v1'),
      ...inputs,
      soak: '2s',
    });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
    const watch = await watchPartitions(ns.kubeConfig, ns.name);
    const since = Date.now();
    const leases = ns.kubeConfig.makeApiClient(CoordinationV1Api);
    const lease = { name: 'statefulset-canary-l-2', namespace: ns.name };
    // Once all three are in stage 2, another holder takes l-2's Lease over.
    const takenOver = watch
      .until((h) => names.every((n) => partitionsOf(h, n, since).includes(1)), 'all three at partition 1')
      .then(async () => {
        const current = await leases.readNamespacedLease(lease);
        const spec = { ...current.spec, holderIdentity: 'another-run', renewTime: new V1MicroTime() };
        await leases.replaceNamespacedLease({ ...lease, body: { ...current, spec } });
      });
    const run = await runAction(ns, { manifests: manifests('registry.local/db:v2'), ...inputs });
    await takenOver;
    watch.stop();
    assert.equal(run.outcome.result, 'cancelled', run.logs.join('\n'));
    assert.ok(
      run.logs.some((l) =>
        l.includes(
          `Lost the lock on ${ns.name}/l-2 (Lease ${ns.name}/statefulset-canary-l-2 was taken over or deleted.): stopping every StatefulSet of this run before the next partition change`,
        ),
      ),
      run.logs.join('\n'),
    );
    for (const name of names) {
      assert.deepEqual(partitionsOf(watch.history, name, since), [3, 2, 1], `${name} stopped in stage 2`);
      const live = await apps.readNamespacedStatefulSet({ name, namespace: ns.name });
      assert.equal(live.metadata?.annotations?.['statefulset-canary.io/phase'], 'cancelled', name);
    }
    // The other holder keeps l-2's Lease; the run released its own two.
    assert.equal((await leases.readNamespacedLease(lease)).spec?.holderIdentity, 'another-run');
    for (const name of ['l-1', 'l-3'])
      await assert.rejects(
        leases.readNamespacedLease({ name: `statefulset-canary-${name}`, namespace: ns.name }),
        (e: { code?: number }) => e.code === 404,
      );
  });

  it('plans the waves in order, and refuses a wave that names no StatefulSet of the manifests, changing nothing', async () => {
    const objects = [sts('zk', 'registry.local/db:v1'), sts('kafka-0', 'registry.local/db:v1')];
    const plan = (waves: string) =>
      runAction(ns, { command: 'plan', manifests: manifestFile(objects), waves, ...fast });
    const shown = await plan('- name: coordination\n  statefulsets: [zk]\n- ["kafka-*"]');
    assert.equal(shown.outcome.failure, undefined, shown.logs.join('\n'));
    assert.match(
      shown.outcome.text ?? '',
      new RegExp(
        `^Wave 1 \\(coordination\\): local/${ns.name}/zk\nWave 2 \\(wave 2\\): local/${ns.name}/kafka-0\n`,
      ),
    );
    const refused = await plan('- [zk]\n- [kafka]');
    assert.equal(refused.outcome.result, 'failed');
    assert.match(
      refused.outcome.failure ?? '',
      /Input waves: wave 2: "kafka" names no StatefulSet of the manifests/,
    );
    const live = await apps.listNamespacedStatefulSet({ namespace: ns.name });
    assert.deepEqual(live.items, [], 'the plan created nothing');
    await assert.rejects(
      runAction(ns, { manifests: manifestFile(objects), waves: '- [zk]', ...fast }),
      /Input waves: .*kafka-0 is in no wave; add it to a wave/,
    );
    assert.deepEqual(
      (await apps.listNamespacedStatefulSet({ namespace: ns.name })).items,
      [],
      'the rollout created nothing',
    );
  });
});
