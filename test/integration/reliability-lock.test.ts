// One rollout per StatefulSet at a time (issue 6, item 3): a second run fails at once (or after
// lock-timeout) naming the holder's run URL; a lease left by a dead holder is taken over once it
// expires; someone else changing the template mid-rollout stops the rollout (RevisionChanged)
// without the action undoing their change.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { createApi } from '../../src/adapters/kubernetes/http.ts';
import { leaseIsFree, microTime } from '../../src/adapters/kubernetes/lock.ts';
import { freshNamespace, statefulSet, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { canaryManifest } from '../support/manifests.ts';
import { type ActionRun, manifestFile, runEngine } from '../support/run/in-process.ts';

const runA = 'https://github.com/acme/shop/actions/runs/1001/attempts/1';
const runB = 'https://github.com/acme/shop/actions/runs/1002/attempts/1';

describe('the rollout lock', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let leases: CoordinationV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('lock');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    leases = ns.kubeConfig.makeApiClient(CoordinationV1Api);
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: statefulSet({ name: 'db', replicas: 3 }),
    });
    await waitFor(async () => (await read()).status?.readyReplicas === 3, 60_000, 'db to be Ready');
  });
  afterEach(() => ns.cleanup());

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
  /** The Lease as the API server sends it (times as strings), as the lock reads it. */
  const rawLease = () =>
    createApi(ns.kubeConfig).request<Parameters<typeof leaseIsFree>[0]>(
      { verb: 'get', kind: 'Lease' },
      {
        method: 'GET',
        path: `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases/statefulset-canary-db`,
      },
    );
  const rollout = (image: string, runUrl: string, extra: Record<string, string> = {}) =>
    runEngine({
      kubeConfig: ns.kubeConfig,
      namespace: ns.name,
      runUrl,
      inputs: {
        manifests: manifestFile([canaryManifest({ image, replicas: 3 })]),
        soak: '4s',
        'stage-timeout': '1m',
        'on-failure': 'halt',
        ...extra,
      },
    });
  /**
   * Starts run A and resolves once it holds the lock (its Lease exists). Run A soaks 3 stages of
   * 4 s, so it holds the lock for at least 12 s; `running()` says whether it still does.
   */
  const startHolder = async (): Promise<{ done: Promise<ActionRun>; running: () => boolean }> => {
    let finished = false;
    const running = rollout('registry.local/db:v2', runA).finally(() => {
      finished = true;
    });
    await waitFor(
      async () =>
        (
          await leases.readNamespacedLease({ name: 'statefulset-canary-db', namespace: ns.name })
        ).spec?.holderIdentity?.startsWith(`${runA} (`) === true,
      10_000,
      'run A to take the lock',
    );
    // Wrapped: an async function returning a bare promise would wait for run A to finish.
    return { done: running, running: () => !finished };
  };
  const refused = async (promise: Promise<unknown>, holder: string): Promise<void> => {
    await assert.rejects(promise, (error: Error) => {
      assert.match(error.message, /is locked by another rollout/);
      assert.ok(error.message.includes(holder), error.message);
      assert.match(error.message, new RegExp(`${ns.name}/db`));
      return true;
    });
  };

  it('refuses a second run at once with lock-timeout 0s, naming the holder run URL', async () => {
    const holder = await startHolder();
    await refused(rollout('registry.local/db:v3', runB, { 'lock-timeout': '0s' }), runA);
    // At once: while run A still holds the lock, not after waiting for it.
    assert.ok(holder.running(), 'run B was refused while run A was still running');
    assert.equal((await holder.done).outcome.result, 'succeeded');
    // Run B changed nothing: the template and the recorded run are run A's.
    const after = await read();
    assert.equal(after.spec?.template?.spec?.containers[0]?.image, 'registry.local/db:v2');
    assert.equal(after.metadata?.annotations?.['statefulset-canary.io/run-url'], runA);
  });

  it('waits lock-timeout (5s) for a busy holder, then fails naming it', async () => {
    const holder = await startHolder();
    const started = Date.now();
    await refused(rollout('registry.local/db:v3', runB, { 'lock-timeout': '5s' }), runA);
    const waited = Date.now() - started;
    assert.ok(waited >= 5_000, `waited ${waited} ms`);
    // Then fails: it gives up at its lock-timeout, not when run A lets go.
    assert.ok(holder.running(), 'run B gave up while run A was still running');
    assert.equal((await holder.done).outcome.result, 'succeeded');
  });

  it('waits for a holder that finishes within lock-timeout, then rolls out', async () => {
    const a = (await startHolder()).done;
    const b = await rollout('registry.local/db:v3', runB, { 'lock-timeout': '2m' });
    const first = await a;
    assert.equal(first.outcome.result, 'succeeded');
    assert.equal(b.outcome.result, 'succeeded', b.logs.join('\n'));
    assert.equal((await read()).spec?.template?.spec?.containers[0]?.image, 'registry.local/db:v3');
  });

  it('takes over a lease left by a dead holder once it expires, not before', async () => {
    const dead = 'https://github.com/acme/shop/actions/runs/999/attempts/1';
    const now = microTime(Date.now());
    await leases.createNamespacedLease({
      namespace: ns.name,
      body: {
        metadata: { name: 'statefulset-canary-db' },
        spec: { holderIdentity: dead, leaseDurationSeconds: 4, acquireTime: now, renewTime: now } as never,
      },
    });
    await refused(rollout('registry.local/db:v2', runB, { 'lock-timeout': '0s' }), dead);
    // Until the lease has expired by the lock's own rule (renewTime + duration in the past).
    await waitFor(
      async () => leaseIsFree(await rawLease(), Date.now()),
      30_000,
      "the dead holder's lease to expire",
    );
    const b = await rollout('registry.local/db:v2', runB, { 'lock-timeout': '0s' });
    assert.equal(b.outcome.result, 'succeeded', b.logs.join('\n'));
    const lease = await leases.listNamespacedLease({ namespace: ns.name });
    assert.deepEqual(
      lease.items.filter((l) => l.spec?.holderIdentity).map((l) => l.spec?.holderIdentity),
      [],
      'released after the run',
    );
  });

  for (const onFailure of ['halt', 'rollback']) {
    it(`stops with RevisionChanged when someone else changes the template mid-rollout (on-failure ${onFailure}), keeping their change`, async () => {
      const running = rollout('registry.local/db:v2', runA, { 'on-failure': onFailure, soak: '6s' });
      await waitFor(
        async () => (await read()).status?.updatedReplicas === 1,
        30_000,
        'the canary to be updated',
      );
      // A JSON patch of the image, as someone running `kubectl set image` would change it.
      await apps.patchNamespacedStatefulSet({
        name: 'db',
        namespace: ns.name,
        body: [
          {
            op: 'replace',
            path: '/spec/template/spec/containers/0/image',
            value: 'registry.local/db:hotfix',
          },
        ],
      });
      const run = await running;
      assert.notEqual(run.outcome.result, 'succeeded');
      assert.match(run.outcome.failure ?? '', /RevisionChanged/);
      assert.match(run.outcome.failure ?? '', /someone else changed the StatefulSet's template/);
      const sts = await read();
      assert.equal(
        sts.spec?.template?.spec?.containers[0]?.image,
        'registry.local/db:hotfix',
        'their change kept',
      );
      assert.equal(
        sts.spec?.updateStrategy?.rollingUpdate?.partition,
        2,
        'partition left where stage 1 put it',
      );
    });
  }
});
