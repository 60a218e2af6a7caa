// apply: false beside Flux (issue 18), on the real local control plane: the manifests are
// applied by test/cluster/build/fluxapply, a Go program on Flux's own server-side apply library
// (github.com/fluxcd/pkg/ssa) with kustomize-controller's field manager and apply options.
import assert from 'node:assert/strict';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { FLUX_MANAGER, fluxApplyBinary, fluxSync } from '../support/appliers.ts';
import { canaryManifest } from '../support/manifests.ts';
import { manifestFile, recordCluster, runAction } from '../support/run/in-process.ts';

const PARKED = 2 ** 31 - 1;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const fast = { soak: '0s', 'stage-timeout': '60s', steps: '1, 100%', 'sync-timeout': '60s' };

/** The managers whose managed fields name `field` (e.g. '"f:partition"'). */
function owners(sts: V1StatefulSet, field: string): string[] {
  return (sts.metadata?.managedFields ?? [])
    .filter((m) => JSON.stringify(m.fieldsV1 ?? {}).includes(field))
    .map((m) => m.manager ?? '');
}

describe('beside Flux (apply: false, applied by fluxcd/pkg/ssa)', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  // A cold build of fluxapply takes minutes: do it before any test's clock starts.
  before(() => fluxApplyBinary().then(() => undefined));
  beforeEach(async () => {
    ns = await freshNamespace('gitops-flux');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => ns.cleanup());

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
  // What Git holds: no namespace (Flux's targetNamespace sets it), no updateStrategy.
  const db = (image: string): V1StatefulSet =>
    canaryManifest({ image, replicas: 3, terminationGracePeriodSeconds: 0 });
  const inNamespace = (sts: V1StatefulSet): V1StatefulSet => ({
    ...sts,
    metadata: { ...sts.metadata, namespace: ns.name },
  });
  const gate = (image: string) =>
    runAction(ns, { manifests: manifestFile([inNamespace(db(image))]), apply: 'false', ...fast });
  const park = () => runAction(ns, { command: 'park', statefulset: 'db' });
  const flux = (sts: V1StatefulSet) => fluxSync(ns.kubeconfigPath, ns.name, [sts]);
  const pods = async () =>
    new Map(
      (await core.listNamespacedPod({ namespace: ns.name })).items.map((p) => [
        p.metadata?.name ?? '',
        p.metadata?.uid ?? '',
      ]),
    );

  it('gates what Flux syncs: parked, canary, stages, parked again; a re-sync of the same commit changes nothing', async (t) => {
    assert.deepEqual(await flux(db('registry.local/db:v1')), [`StatefulSet/${ns.name}/db created`]);
    await waitFor(async () => (await read()).status?.readyReplicas === 3, 60_000, '3 ready replicas');
    assert.match((await park()).outcome.text ?? '', /is parked: partition 2147483647/);
    const v1 = (await read()).status?.currentRevision;
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const running = gate('registry.local/db:v2');
    assert.deepEqual(await flux(db('registry.local/db:v2')), [`StatefulSet/${ns.name}/db configured`]);
    const run = await running;
    record.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    const v2 = run.outcome.revision;
    assert.notEqual(v2, v1);
    t.diagnostic(`partitions ${JSON.stringify(record.partitions)}; revisions ${v1} -> ${v2}`);
    t.diagnostic(`pod revisions ${record.podRevisions.map(([, pod, rev]) => `${pod}=${rev}`).join(', ')}`);
    assert.deepEqual(record.partitions, [PARKED, 2, 0, PARKED]);
    const order = record.podRevisions.filter(([, , rev]) => rev === v2).map(([, pod]) => pod);
    assert.deepEqual(order, ['db-2', 'db-1', 'db-0'], 'the canary first, then the ordinals down');
    const sts = await read();
    assert.equal(sts.status?.currentRevision, v2);
    assert.equal(sts.status?.updateRevision, v2);
    assert.deepEqual(owners(sts, '"f:template"'), [FLUX_MANAGER], 'Flux owns the template');
    assert.deepEqual(owners(sts, '"f:partition"'), ['statefulset-canary'], 'the action owns the partition');

    // Flux reconciles the same commit again (every interval): its dry-run finds no drift, so it
    // applies nothing: the parked partition stays and no pod restarts.
    const before = await pods();
    assert.deepEqual(await flux(db('registry.local/db:v2')), [`StatefulSet/${ns.name}/db unchanged`]);
    const after = await read();
    assert.equal(after.spec?.updateStrategy?.rollingUpdate?.partition, PARKED);
    assert.equal(after.metadata?.generation, sts.metadata?.generation);
    assert.deepEqual(await pods(), before);
  });

  it('rolls a failed canary back by replacing pods while Flux re-syncs the same commit, and the revert restarts nothing', async (t) => {
    await flux(db('registry.local/db:v1'));
    await waitFor(async () => (await read()).status?.readyReplicas === 3, 60_000, '3 ready replicas');
    await park();
    const good = (await read()).status?.currentRevision;
    const running = gate('registry.local/db:v2-crashloop');
    await flux(db('registry.local/db:v2-crashloop'));
    const run = await running;
    assert.equal(run.outcome.result, 'rolled-back', run.logs.join('\n'));
    const bad = (await read()).status?.updateRevision;
    assert.notEqual(bad, good);
    await waitFor(
      async () =>
        (await core.listNamespacedPod({ namespace: ns.name })).items.every(
          (p) => p.metadata?.labels?.['controller-revision-hash'] === good && p.status?.phase === 'Running',
        ),
      60_000,
      'every pod back on the good revision',
    );
    // Flux reconciles the same commit: the template is what Git says, so it writes nothing.
    assert.deepEqual(await flux(db('registry.local/db:v2-crashloop')), [
      `StatefulSet/${ns.name}/db unchanged`,
    ]);
    const before = await pods();
    const again = await gate('registry.local/db:v2-crashloop');
    assert.equal(again.outcome.result, 'halted', again.logs.join('\n'));
    assert.match(again.outcome.failure ?? '', /Revert the change in Git/);
    // The revert is merged and synced: the template is the good one again, which the pods run.
    assert.deepEqual(await flux(db('registry.local/db:v1')), [`StatefulSet/${ns.name}/db configured`]);
    await waitFor(
      async () => {
        const sts = await read();
        return (sts.status?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 1);
      },
      60_000,
      'the controller to observe the revert',
    );
    const reverted = await read();
    assert.equal(reverted.status?.updateRevision, good, 'the previous revision is reused');
    assert.equal(reverted.status?.currentRevision, good);
    const afterRevert = await gate('registry.local/db:v1');
    t.diagnostic(
      `revisions good ${good}, bad ${bad}; run after the rollback: ${again.outcome.result}; ` +
        `run after the revert: ${afterRevert.outcome.result} (${afterRevert.outcome.statefulSets[0]?.message ?? ''})`,
    );
    assert.deepEqual(await pods(), before, 'no pod restarted by the re-sync, the rerun or the revert');
    assert.equal((await read()).spec?.updateStrategy?.rollingUpdate?.partition, PARKED);
    assert.equal(
      afterRevert.outcome.result,
      'no-change',
      'a revert of a rolled-back change is not an ungated sync',
    );
  });

  it('refuses to park a partition Flux applies from Git, naming kustomize-controller and what to change', async () => {
    const owned = db('registry.local/db:v1');
    owned.spec = {
      ...owned.spec!,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    };
    await flux(owned);
    const generation = (await read()).metadata?.generation;
    await assert.rejects(park(), (error: Error) => {
      assert.match(error.message, new RegExp(`partition is owned by ${FLUX_MANAGER}`));
      assert.match(
        error.message,
        /Take updateStrategy\.rollingUpdate\.partition out of the manifests in Git/,
      );
      assert.match(error.message, /Nothing was changed in the cluster/);
      return true;
    });
    const after = await read();
    assert.equal(after.metadata?.generation, generation, 'nothing changed');
    assert.equal(after.spec?.updateStrategy?.rollingUpdate?.partition, 0);
  });

  it("takes over from client-side kubectl apply (kubectl's managers and annotation cleaned up), then parks", async () => {
    // Created by hand with client-side `kubectl apply` before Flux managed it: manager
    // kubectl-client-side-apply (an Update, which owns every field of the created object,
    // defaulted ones such as the partition included) and the last-applied annotation.
    const manifest = inNamespace(db('registry.local/db:v1'));
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: {
        ...manifest,
        metadata: {
          ...manifest.metadata,
          annotations: { [LAST_APPLIED]: JSON.stringify(manifest) },
        },
      },
      fieldManager: 'kubectl-client-side-apply',
    });
    await waitFor(async () => (await read()).status?.readyReplicas === 3, 60_000, '3 ready replicas');
    const created = await read();
    assert.ok(owners(created, '"f:partition"').includes('kubectl-client-side-apply'));

    assert.deepEqual(await flux(db('registry.local/db:v1')), [`StatefulSet/${ns.name}/db configured`]);
    const adopted = await read();
    const managers = (adopted.metadata?.managedFields ?? []).map((m) => m.manager);
    assert.ok(!managers.includes('kubectl-client-side-apply'), `kubectl's manager is gone: ${managers}`);
    assert.equal(adopted.metadata?.annotations?.[LAST_APPLIED], undefined, "kubectl's annotation is gone");
    assert.deepEqual(owners(adopted, '"f:template"'), [FLUX_MANAGER]);
    assert.deepEqual(owners(adopted, '"f:partition"'), [], 'Git does not set the partition: nobody owns it');
    assert.equal(adopted.status?.updateRevision, created.status?.updateRevision, 'no new revision');

    assert.match((await park()).outcome.text ?? '', /is parked: partition 2147483647/);
    assert.deepEqual(await flux(db('registry.local/db:v1')), [`StatefulSet/${ns.name}/db unchanged`]);
    const parked = await read();
    assert.equal(parked.spec?.updateStrategy?.rollingUpdate?.partition, PARKED);
    assert.deepEqual(owners(parked, '"f:partition"'), ['statefulset-canary']);
  });

  it('parks a StatefulSet that client-side kubectl apply created, before Flux adopts it', async () => {
    const manifest = inNamespace(db('registry.local/db:v1'));
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: {
        ...manifest,
        metadata: { ...manifest.metadata, annotations: { [LAST_APPLIED]: JSON.stringify(manifest) } },
      },
      fieldManager: 'kubectl-client-side-apply',
    });
    assert.match((await park()).outcome.text ?? '', /is parked: partition 2147483647/);
  });
});
