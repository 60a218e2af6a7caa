// apply: false beside a GitOps controller (issue 18), on the real local control plane: the
// applier syncs, the action parks, gates, reports and rolls back without writing the template.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { ARGO_MANAGER, argoSync } from '../support/appliers.ts';
import { canaryManifest } from '../support/manifests.ts';
import { manifestFile, recordCluster, runAction } from '../support/run/in-process.ts';

const PARKED = 2 ** 31 - 1;
const fast = { soak: '0s', 'stage-timeout': '60s', steps: '1, 100%', 'sync-timeout': '60s' };

describe('beside a GitOps controller (apply: false)', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('gitops');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => ns.cleanup());

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
  const db = (image: string): V1StatefulSet => {
    const sts = canaryManifest({ image, replicas: 3, terminationGracePeriodSeconds: 0 });
    return { ...sts, metadata: { ...sts.metadata, namespace: ns.name } };
  };
  const pods = async () =>
    new Map(
      (await core.listNamespacedPod({ namespace: ns.name })).items.map((p) => [
        p.metadata?.name ?? '',
        { uid: p.metadata?.uid, revision: p.metadata?.labels?.['controller-revision-hash'] },
      ]),
    );
  const gate = (image: string, extra: Record<string, string> = {}) =>
    runAction(ns, { manifests: manifestFile([db(image)]), apply: 'false', ...fast, ...extra });
  const park = () => runAction(ns, { command: 'park', statefulset: 'db' });
  const synced = async (image: string) => {
    await argoSync(ns.kubeConfig, ns.name, [db(image)]);
    await waitFor(async () => (await read()).status?.readyReplicas === 3, 60_000, '3 ready replicas');
  };

  it('gates what the applier syncs: parked, canary, stages, parked again, without writing the template', async (t) => {
    await synced('registry.local/db:v1');
    assert.match((await park()).outcome.text ?? '', /is parked: partition 2147483647/);
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const running = gate('registry.local/db:v2');
    await argoSync(ns.kubeConfig, ns.name, [db('registry.local/db:v2')]);
    const run = await running;
    record.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    t.diagnostic(
      `partitions ${JSON.stringify(record.partitions)}; revisions ${run.outcome.previousRevision} -> ` +
        `${run.outcome.revision}; pods ${record.podRevisions.map(([, pod, rev]) => `${pod}=${rev}`).join(', ')}`,
    );
    assert.deepEqual(record.partitions, [PARKED, 2, 0, PARKED]);
    const order = record.podRevisions
      .filter(([, , rev]) => rev === run.outcome.revision)
      .map(([, pod]) => pod);
    assert.equal(order[0], 'db-2', 'the canary first');
    const sts = await read();
    assert.equal(sts.status?.currentRevision, sts.status?.updateRevision);
    const managers = (sts.metadata?.managedFields ?? []).filter((m) => m.manager === 'statefulset-canary');
    assert.ok(
      managers.every((m) => !JSON.stringify(m.fieldsV1).includes('"f:template"')),
      'the action owns no template field: it never wrote the template',
    );
  });

  it('refuses to park a partition the applier owns, saying what to change in Argo CD', async () => {
    const owned = db('registry.local/db:v1');
    owned.spec = {
      ...owned.spec!,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    };
    await argoSync(ns.kubeConfig, ns.name, [owned]);
    const generation = (await read()).metadata?.generation;
    await assert.rejects(park(), (error: Error) => {
      assert.match(error.message, new RegExp(`owned by ${ARGO_MANAGER}`));
      assert.match(error.message, /ignoreDifferences.*managedFieldsManagers.*RespectIgnoreDifferences=true/);
      return true;
    });
    const after = await read();
    assert.equal(after.metadata?.generation, generation, 'nothing changed');
    assert.equal(after.spec?.updateStrategy?.rollingUpdate?.partition, 0);
  });

  it('reports a sync that rolled pods before the partition was parked as not gated', async () => {
    await synced('registry.local/db:v1');
    const v1 = (await read()).status?.currentRevision;
    await synced('registry.local/db:v2');
    // Until the controller observes the sync, its status still says v1 is rolled out everywhere.
    await waitFor(
      async () => {
        const sts = await read();
        return (
          (sts.status?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 1) &&
          sts.status?.updateRevision !== v1 &&
          sts.status?.currentRevision === sts.status?.updateRevision &&
          sts.status?.updatedReplicas === 3
        );
      },
      60_000,
      'the ungated sync to finish',
    );
    const run = await gate('registry.local/db:v2');
    assert.equal(run.outcome.result, 'not-gated', run.logs.join('\n'));
    assert.match(run.outcome.statefulSets[0]?.message ?? '', /not gated.*before the partition was parked/);
    assert.equal((await read()).spec?.updateStrategy?.rollingUpdate?.partition, PARKED, 'parked from now on');
  });

  it('rolls a failed canary back by replacing pods, and does not loop while the applier re-syncs the same Git state', async () => {
    await synced('registry.local/db:v1');
    await park();
    const good = (await read()).status?.currentRevision;
    const running = gate('registry.local/db:v2-crashloop');
    await argoSync(ns.kubeConfig, ns.name, [db('registry.local/db:v2-crashloop')]);
    const run = await running;
    assert.equal(run.outcome.result, 'rolled-back', run.logs.join('\n'));
    assert.match(run.outcome.failure ?? '', /Git still holds the failed change/);
    const sts = await read();
    assert.equal(
      sts.spec?.template.spec?.containers[0]?.image,
      'registry.local/db:v2-crashloop',
      'template left to Git',
    );
    assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.partition, PARKED);
    await waitFor(
      async () => [...(await pods()).values()].every((p) => p.revision === good),
      60_000,
      'pods back on the good revision',
    );
    const before = await pods();
    // The applier syncs the same Git state again: same template, no new revision, no pod restarted.
    await argoSync(ns.kubeConfig, ns.name, [db('registry.local/db:v2-crashloop')]);
    const again = await gate('registry.local/db:v2-crashloop');
    assert.equal(again.outcome.result, 'halted', again.logs.join('\n'));
    assert.match(again.outcome.failure ?? '', /Revert the change in Git/);
    const after = await pods();
    for (const [name, pod] of before) assert.equal(after.get(name)?.uid, pod.uid, `${name} not restarted`);
  });
});
