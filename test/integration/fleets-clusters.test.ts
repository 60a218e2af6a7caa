// Several kube contexts in one run (issue 25, items 2 and 4), on two control planes: the shared
// one, and a private one (fleets-second) that a child process starts with the harness's own
// scripts; one kubeconfig holds both contexts. Only one more cluster than the suite's own.
// The second cluster refuses the new pods (a ValidatingAdmissionPolicy), so its stage fails;
// the first is kept or rolled back as on-failure-others asks; and a context that is missing or
// cannot be reached is named before anything changes anywhere.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

const SECOND = process.env.FLEETS_SECOND_CLUSTER ?? 'fleets-second';
const { ensureClusterUp } = await import('../cluster/lifecycle.ts');
const { freshNamespace } = await import('../cluster/harness.ts');
const { canaryManifest } = await import('../support/manifests.ts');
const { manifestFile, runEngine } = await import('../support/run/in-process.ts');
const { partitionsOf, stagedSpan, watchPartitions } = await import('../support/partition-watch.ts');
const { mergedKubeConfig, startSecondCluster } = await import('../support/second-cluster.ts');

type Namespace = Awaited<ReturnType<typeof freshNamespace>>;
type Second = Awaited<ReturnType<typeof startSecondCluster>>;

const V1 = 'registry.local/db:v1';
const V2 = 'registry.local/db:v2';
const manifests = (image: string) =>
  manifestFile([canaryManifest({ image, replicas: 3, terminationGracePeriodSeconds: 0 })]);
const fast = { soak: '1s', 'stage-timeout': '20s', clusters: '- first\n- second' };

/** Refuses every pod whose image ends in :v2, in every namespace of the cluster. */
async function refuseV2Pods(kubeConfig: KubeConfig): Promise<void> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  await api.createValidatingAdmissionPolicy({
    body: {
      metadata: { name: 'refuse-v2' },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
          ],
        },
        validations: [
          { expression: "!object.spec.containers.exists(c, c.image.endsWith(':v2'))", message: 'no v2 here' },
        ],
      },
    },
  });
  await api.createValidatingAdmissionPolicyBinding({
    body: {
      metadata: { name: 'refuse-v2' },
      spec: {
        policyName: 'refuse-v2',
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: {} },
      },
    },
  });
}

let second: Second;
before(async () => {
  await ensureClusterUp();
  second = await startSecondCluster(SECOND);
  await refuseV2Pods(second.kubeConfig);
});
after(async () => {
  await second?.stop();
});

describe('several clusters in order', () => {
  let ns: Namespace;
  let kubeConfig: KubeConfig;
  beforeEach(async () => {
    ns = await freshNamespace('fleet-clusters');
    await second.kubeConfig
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: ns.name } } });
    kubeConfig = mergedKubeConfig(
      [
        { name: 'first', kubeConfig: ns.kubeConfig },
        { name: 'second', kubeConfig: second.kubeConfig },
      ],
      ns.name,
    );
  });
  afterEach(async () => {
    await ns.cleanup();
    await second.kubeConfig.makeApiClient(CoreV1Api).deleteNamespace({ name: ns.name });
  });
  const rollout = (image: string, inputs: Record<string, string> = {}) =>
    runEngine({
      kubeConfig,
      namespace: ns.name,
      inputs: { manifests: manifests(image), ...fast, ...inputs },
    });
  const imageIn = async (kc: KubeConfig) =>
    (await kc.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ name: 'db', namespace: ns.name })).spec
      ?.template.spec?.containers[0]?.image;

  for (const [policy, firstEnds, firstImage] of [
    ['rollback', 'rolled-back', V1],
    ['keep', 'succeeded', V2],
  ] as const) {
    it(`goes to the second cluster after the first; its failure leaves the first ${policy === 'keep' ? 'kept' : 'rolled back'} (on-failure-others: ${policy})`, async () => {
      const created = await rollout(V1);
      assert.deepEqual(
        created.outcome.statefulSets.map((s) => [s.statefulSet, s.result]),
        [
          [`first/${ns.name}/db`, 'created'],
          [`second/${ns.name}/db`, 'created'],
        ],
        created.logs.join('\n'),
      );
      const watchFirst = await watchPartitions(ns.kubeConfig, ns.name);
      const watchSecond = await watchPartitions(second.kubeConfig, ns.name);
      const since = Date.now();
      const run = await rollout(V2, { 'on-failure-others': policy, 'cluster-soak': '1500ms' });
      watchFirst.stop();
      watchSecond.stop();
      assert.deepEqual(
        run.outcome.statefulSets.map((s) => [s.statefulSet, s.result]),
        [
          [`first/${ns.name}/db`, firstEnds],
          [`second/${ns.name}/db`, 'rolled-back'],
        ],
        run.logs.join('\n'),
      );
      assert.deepEqual(
        run.fleets.map((f) => f.waves.map((w) => w.members.map((m) => m.context))),
        [[['first'], ['second']]],
      );
      assert.deepEqual(
        [...new Set(run.reports.map((r) => r.context))],
        ['first', 'second'],
        'reports name their context',
      );
      assert.equal(await imageIn(ns.kubeConfig), firstImage);
      assert.equal(await imageIn(second.kubeConfig), V1);
      // The first cluster went through its stages, then cluster-soak, and only then the second began.
      assert.deepEqual(partitionsOf(watchFirst.history, 'db', since).slice(0, 4), [3, 2, 1, 0]);
      const [, firstDone] = stagedSpan(watchFirst.history, 'db', since);
      const secondMoves = (watchSecond.history.get('db') ?? []).filter(([t]) => t >= since);
      assert.ok(
        (secondMoves[0]?.[0] ?? 0) >= firstDone + 1500,
        'the second cluster started after the first finished, and cluster-soak after that',
      );
      assert.ok(run.logs.some((l) => l.includes('cluster-soak: waiting 1.5 s before second')));
      assert.ok(
        run.logs.some((l) => l.includes(`[second/${ns.name}/db] `)),
        'lines name the context',
      );
    });
  }

  it('names a context missing from the kubeconfig, or one that cannot be reached, before anything changes', async () => {
    const created = await rollout(V1);
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
    const generation = async () =>
      (
        await ns.kubeConfig
          .makeApiClient(AppsV1Api)
          .readNamespacedStatefulSet({ name: 'db', namespace: ns.name })
      ).metadata?.generation;
    const before = await generation();
    await assert.rejects(
      rollout(V2, { clusters: '- first\n- elsewhere' }),
      /context "elsewhere" is not in the kubeconfig/,
    );
    kubeConfig.addCluster({ name: 'gone', server: 'https://127.0.0.1:1', skipTLSVerify: true });
    kubeConfig.addContext({ name: 'gone', cluster: 'gone', user: 'first', namespace: ns.name });
    await assert.rejects(
      rollout(V2, { clusters: '- first\n- gone' }),
      /clusters: context gone cannot take the rollout, so nothing was changed in any context/,
    );
    assert.equal(await generation(), before, 'nothing changed in the first cluster');
    assert.equal(await imageIn(ns.kubeConfig), V1);
  });
});
