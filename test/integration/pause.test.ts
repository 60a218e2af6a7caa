// Pause between stages, then promote or abort (issue 15), on the real local control plane.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { canaryManifest, untouched } from '../support/manifests.ts';
import { manifestFile, recordCluster, runAction, runEngine } from '../support/run/in-process.ts';

const fast = { soak: '0s', 'stage-timeout': '60s', steps: '1, 50%, 100%' };

describe('pause, promote and abort', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('pause');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => ns.cleanup());

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
  const annotation = async (key: string) =>
    (await read()).metadata?.annotations?.[`statefulset-canary.io/${key}`];
  const uids = async () =>
    new Map(
      (await core.listNamespacedPod({ namespace: ns.name })).items.map((p) => [
        p.metadata?.name,
        p.metadata?.uid,
      ]),
    );
  const db = (image: string) => canaryManifest({ image, replicas: 5, terminationGracePeriodSeconds: 0 });
  const rollout = (image: string, extra: Record<string, string> = {}) =>
    runAction(ns, { manifests: manifestFile([db(image)]), ...fast, ...extra });
  const command = (name: string, extra: Record<string, string> = {}) =>
    runAction(ns, { command: name, statefulset: 'db', ...fast, ...extra });
  const lease = async () =>
    ns.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'statefulset-canary-db', namespace: ns.name })
      .then(
        () => true,
        () => false,
      );

  it('pauses after the canary with the partition held and no lock, then promote goes on from the next stage', async () => {
    assert.equal((await rollout('registry.local/db:v1')).outcome.result, 'created');
    const paused = await rollout('registry.local/db:v2', { 'pause-after': '1' });
    assert.equal(paused.outcome.result, 'paused', paused.logs.join('\n'));
    assert.equal(paused.outcome.failure, undefined, 'the step succeeds');
    assert.equal((await read()).spec?.updateStrategy?.rollingUpdate?.partition, 4);
    assert.equal(await annotation('phase'), 'paused');
    assert.equal(await annotation('stage'), '1');
    assert.ok(Date.parse((await annotation('paused-at')) ?? '') > 0, 'records when it paused');
    assert.equal(await lease(), false, 'the lock is released');
    assert.match(paused.outcome.statefulSets[0]?.message ?? '', /promote/);
    const status = await command('status');
    assert.match(status.outcome.text ?? '', /Recorded rollout: paused at stage 1.*paused for \d+s/);
    const before = await uids();
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const promoted = await command('promote');
    record.stop();
    assert.equal(promoted.outcome.result, 'succeeded', promoted.logs.join('\n'));
    assert.deepEqual(record.partitions, [4, 2, 0], 'from the paused stage on, never frozen again');
    assert.equal((await uids()).get('db-4'), before.get('db-4'), 'the canary is re-gated, not restarted');
    assert.equal(await annotation('phase'), 'succeeded');
    assert.equal(await annotation('paused-at'), undefined);
  });

  it('pauses after each stage with `each`, and the stages, soak and gates come from the paused rollout', async () => {
    assert.equal((await rollout('registry.local/db:v1')).outcome.result, 'created');
    assert.equal((await rollout('registry.local/db:v2', { 'pause-after': 'each' })).outcome.result, 'paused');
    // This run's own steps would be one stage; promote keeps the rollout's `1, 50%, 100%`.
    const second = await command('promote', { steps: '100%' });
    assert.equal(second.outcome.result, 'paused', second.logs.join('\n'));
    assert.equal((await read()).spec?.updateStrategy?.rollingUpdate?.partition, 2);
    const third = await command('promote');
    assert.equal(third.outcome.result, 'succeeded', third.logs.join('\n'));
    assert.equal((await read()).spec?.updateStrategy?.rollingUpdate?.partition, 0);
  });

  it('refuses to promote when nothing is paused, or when the template changed since the pause', async () => {
    assert.equal((await rollout('registry.local/db:v1')).outcome.result, 'created');
    await assert.rejects(command('promote'), /no rollout recorded|not paused/);
    assert.equal((await rollout('registry.local/db:v2', { 'pause-after': '1' })).outcome.result, 'paused');
    await apps.patchNamespacedStatefulSet(
      {
        name: 'db',
        namespace: ns.name,
        fieldManager: 'kubectl-edit',
        body: { spec: { template: { metadata: { annotations: { edited: 'by hand' } } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(
      async () => (await read()).status?.observedGeneration === (await read()).metadata?.generation,
      30_000,
      'the controller to see the edit',
    );
    const before = untouched(await read());
    await assert.rejects(command('promote'), /template changed since the rollout/);
    assert.deepEqual(untouched(await read()), before, 'nothing changed');
  });

  it('aborts a paused rollout back to the previous revision, as an automatic rollback does', async () => {
    assert.equal((await rollout('registry.local/db:v1')).outcome.result, 'created');
    const old = (await read()).status?.currentRevision;
    assert.equal((await rollout('registry.local/db:v2', { 'pause-after': '1' })).outcome.result, 'paused');
    const aborted = await command('abort', { reason: 'p99 latency up' });
    assert.equal(aborted.outcome.result, 'rolled-back', aborted.logs.join('\n'));
    assert.equal(aborted.outcome.failure, undefined, 'an abort that rolled back succeeded');
    const sts = await read();
    assert.equal(sts.status?.updateRevision, old);
    assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.partition, 0, 'the original partition is back');
    await waitFor(
      async () => (await read()).status?.currentRevision === old,
      60_000,
      'every pod on the old revision',
    );
    await assert.rejects(command('abort'), /nothing to abort/);
  });

  it('refuses a second promote while one runs', async () => {
    assert.equal((await rollout('registry.local/db:v1')).outcome.result, 'created');
    assert.equal(
      (await rollout('registry.local/db:v2', { 'pause-after': '1', soak: '4s' })).outcome.result,
      'paused',
    );
    const first = command('promote');
    await waitFor(lease, 30_000, 'the first promote to hold the lock');
    // Another workflow run (its own run URL, so its own lock holder).
    const second = runEngine({
      kubeConfig: ns.kubeConfig,
      namespace: ns.name,
      inputs: { command: 'promote', statefulset: 'db', ...fast },
      runUrl: 'https://github.com/o/r/actions/runs/2',
    });
    await assert.rejects(second, /locked by another rollout: https:\/\/github.com\/o\/r\/actions\/runs\/1/);
    assert.equal((await first).outcome.result, 'succeeded');
  });
});
