// Transient API faults are survived (issue 6, item 1): a 5-replica rollout through the
// fault-injecting proxy (500s, 429s with Retry-After, connection resets before and after the
// API server acted, watch streams cut every few seconds) ends `succeeded` with the same
// partition sequence as without faults; without faults the adapters make no retry at all.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { type FaultPlan, type FaultProxy, startFaultProxy } from '../support/faults/proxy.ts';
import { canaryManifest } from '../support/manifests.ts';
import { describeRetries, manifestFile, recordCluster, runEngine } from '../support/run/in-process.ts';

const fast = { soak: '2s', 'stage-timeout': '2m', 'on-failure': 'halt' };

describe('a rollout through a fault-injecting proxy', () => {
  let ns: TestNamespace;
  let proxy: FaultProxy;
  before(async () => {
    ns = await freshNamespace('faults');
    proxy = await startFaultProxy(await adminKubeConfig());
    // Created directly (not through the proxy): the baseline the rollouts start from.
    const created = await runEngine({
      kubeConfig: ns.kubeConfig,
      namespace: ns.name,
      inputs: { manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v0' })]), ...fast },
    });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
  });
  after(async () => {
    await proxy.close();
    await ns.cleanup();
  });

  const rollThrough = async (image: string, plan: FaultPlan) => {
    proxy.setFaults(plan);
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    try {
      return {
        run: await runEngine({
          kubeConfig: proxy.kubeConfig(ns.name),
          namespace: ns.name,
          inputs: { manifests: manifestFile([canaryManifest({ image })]), ...fast },
        }),
        partitions: record.partitions,
      };
    } finally {
      record.stop();
    }
  };

  it('makes no retries and goes through partitions 5, 4, 2, 0 when nothing fails', async () => {
    const { run, partitions } = await rollThrough('registry.local/db:v1', {});
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.deepEqual(partitions, [0, 5, 4, 2, 0]);
    assert.equal(run.retries.length, 0, describeRetries(run.retries));
    assert.ok(proxy.counts.forwarded > 0, 'the run went through the proxy');
  });

  const plans: [string, FaultPlan][] = [
    [
      '10% 500, 5% 429, 5% resets, watches cut every 3 s',
      {
        status500: 0.1,
        status429: 0.05,
        reset: 0.05,
        cutWatchesEveryMs: 3000,
        seed: 11,
      },
    ],
    [
      '15% 500, 5% 429, 5% resets, 5% lost replies, watches cut every 2 s',
      {
        status500: 0.15,
        status429: 0.05,
        reset: 0.05,
        lostReply: 0.05,
        cutWatchesEveryMs: 2000,
        seed: 23,
      },
    ],
  ];
  for (const [index, [what, plan]] of plans.entries()) {
    it(`still succeeds with the same partitions under ${what}`, async () => {
      const before = { ...proxy.counts };
      const started = Date.now();
      const { run, partitions } = await rollThrough(`registry.local/db:v${index + 2}`, plan);
      const injected = Object.fromEntries(
        Object.entries(proxy.counts).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
      );
      console.log(
        `faults (${what}): ${JSON.stringify(injected)}; retries ${run.retries.length}; ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      assert.equal(run.outcome.result, 'succeeded', `${run.outcome.failure}\n${run.logs.join('\n')}`);
      assert.deepEqual(partitions, [0, 5, 4, 2, 0]);
      assert.deepEqual(
        run.outcome.stages.map((s) => [s.partition, s.verdict]),
        [
          [4, 'passed'],
          [2, 'passed'],
          [0, 'passed'],
        ],
      );
      const sts = await ns.kubeConfig
        .makeApiClient(AppsV1Api)
        .readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
      assert.equal(sts.status?.currentRevision, sts.status?.updateRevision);
      assert.equal(sts.status?.updatedReplicas, 5);
      assert.ok(run.retries.length > 0, 'faults were retried');
      assert.ok((injected.watchCuts ?? 0) > 0, 'watches were cut');
      assert.ok((injected.status500 ?? 0) + (injected.status429 ?? 0) + (injected.resets ?? 0) > 0);
    });
  }
});

describe('a write whose reply is lost (the API server acted, the client saw a reset)', () => {
  let ns: TestNamespace;
  let proxy: FaultProxy;
  const small = (image: string) => canaryManifest({ image, replicas: 2 });
  before(async () => {
    ns = await freshNamespace('lost-reply');
    proxy = await startFaultProxy(await adminKubeConfig());
    const created = await runEngine({
      kubeConfig: ns.kubeConfig,
      namespace: ns.name,
      inputs: { manifests: manifestFile([small('registry.local/db:v0')]), ...fast, soak: '1s' },
    });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
  });
  after(async () => {
    await proxy.close();
    await ns.cleanup();
  });

  const writes: [string, (method: string, path: string) => boolean][] = [
    ['the Lease create', (m, p) => m === 'POST' && p.includes('/leases')],
    [
      'the server-side apply of the StatefulSet',
      (m, p) => m === 'PATCH' && /statefulsets\/db\?.*fieldValidation/.test(p) && !p.includes('dryRun'),
    ],
    [
      'the first partition write',
      (m, p) => m === 'PATCH' && /statefulsets\/db\?/.test(p) && !p.includes('fieldValidation'),
    ],
    ['the Lease release', (m, p) => m === 'DELETE' && p.includes('/leases')],
  ];
  for (const [index, [what, only]] of writes.entries()) {
    it(`survives a lost reply to ${what}`, async () => {
      proxy.setFaults({ lostReply: 1, only, maxFaults: 1 });
      const before = proxy.counts.lostReplies;
      const run = await runEngine({
        kubeConfig: proxy.kubeConfig(ns.name),
        namespace: ns.name,
        inputs: { manifests: manifestFile([small(`registry.local/db:v${index + 1}`)]), ...fast, soak: '1s' },
      });
      assert.equal(proxy.counts.lostReplies - before, 1, 'one reply was lost');
      assert.equal(run.outcome.result, 'succeeded', `${run.outcome.failure}\n${run.logs.join('\n')}`);
      const leases = await ns.kubeConfig
        .makeApiClient(CoordinationV1Api)
        .listNamespacedLease({ namespace: ns.name });
      assert.deepEqual(
        leases.items.filter((l) => l.spec?.holderIdentity).map((l) => l.spec?.holderIdentity),
        [],
        'no Lease left held',
      );
    });
  }
});
