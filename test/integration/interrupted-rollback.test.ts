// An automatic rollback interrupted by SIGKILL (issue 12, item 5): the bundled action rolls a
// crash-looping canary back and is killed while phase rolling-back is recorded; the next run of
// any command on that StatefulSet (rollout, rollback) finishes that rollback first, restores the
// original partition, says so in its log and report, and only then does its own work.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { freshNamespace, readyAfterAnnotation, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { canaryManifest } from '../support/manifests.ts';
import { githubEnv, inputEnv, pushEvent, startBundle } from '../support/run/bundle.ts';
import { manifestFile, recordCluster, runAction } from '../support/run/in-process.ts';

const fast = { soak: '0s', 'stage-timeout': '60s', steps: '1, 100%' };
const PHASE = 'statefulset-canary.io/phase';

describe('an automatic rollback interrupted by SIGKILL', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('killed');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => ns.cleanup());

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
  // Pods of the good revision take 3 s to turn Ready: the rollback has a window to be killed in.
  const db = (image: string) =>
    canaryManifest({
      image,
      replicas: 3,
      terminationGracePeriodSeconds: 0,
      podAnnotations: { [readyAfterAnnotation]: image.includes('crashloop') ? '0s' : '3s' },
    });

  /** Creates db on v1, then kills the bundled action rolling v2-crashloop out once it is rolling back. */
  async function killDuringRollback(): Promise<{ v1: string }> {
    const created = await runAction(ns, { manifests: manifestFile([db('registry.local/db:v1')]), ...fast });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
    const v1 = (await read()).status?.currentRevision ?? '';
    const step = startBundle({
      ...inputEnv(
        {
          kubeconfig: readFileSync(ns.kubeconfigPath, 'utf8'),
          manifests: manifestFile([db('registry.local/db:v2-crashloop')]),
          ...fast,
          'github-token': '',
        },
        '',
      ),
      ...githubEnv('http://127.0.0.1:9', 'push', pushEvent('0'.repeat(40)), { GITHUB_RUN_ID: '200' }),
    });
    await waitFor(
      async () => (await read()).metadata?.annotations?.[PHASE] === 'rolling-back',
      60_000,
      'the automatic rollback to begin',
      10,
    );
    step.child.kill('SIGKILL');
    const exit = await step.exited;
    assert.equal(exit.signal, 'SIGKILL');
    const left = await read();
    assert.equal(left.metadata?.annotations?.[PHASE], 'rolling-back', 'killed before the rollback ended');
    assert.equal(
      left.spec?.updateStrategy?.rollingUpdate?.partition,
      2,
      'held where the canary stage put it',
    );
    // The killed run's Lease would expire in 30 s; the lock is not what this test is about.
    const leases = ns.kubeConfig.makeApiClient(CoordinationV1Api);
    for (const lease of (await leases.listNamespacedLease({ namespace: ns.name })).items)
      await leases.deleteNamespacedLease({ name: lease.metadata?.name ?? '', namespace: ns.name });
    return { v1 };
  }

  const podRevisions = async () =>
    (await core.listNamespacedPod({ namespace: ns.name })).items
      .map((p) => `${p.metadata?.name}@${p.metadata?.labels?.['controller-revision-hash']}`)
      .sort();

  it('is finished by the next rollout before it rolls its own change out, and the report says so', async () => {
    const { v1 } = await killDuringRollback();
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = await runAction(ns, { manifests: manifestFile([db('registry.local/db:v3')]), ...fast });
    record.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.ok(
      run.logs.some((l) =>
        /an earlier run was stopped during its automatic rollback .* finishing that rollback before this rollout/.test(
          l,
        ),
      ),
      run.logs.join('\n'),
    );
    // Held at 2, the original partition 0 back once the rollback ended, then this rollout: frozen, canary, all.
    assert.deepEqual(record.partitions, [2, 0, 3, 2, 0]);
    const v3 = run.outcome.revision ?? '';
    const order = record.podRevisions.map(
      ([, pod, revision]) => `${pod}@${revision === v1 ? 'v1' : revision === v3 ? 'v3' : 'bad'}`,
    );
    assert.ok(
      order.indexOf('db-2@v1') < order.indexOf('db-2@v3'),
      `db-2 back on v1 before v3: ${order.join(' ')}`,
    );
    const last = run.reports.at(-1);
    assert.equal(last?.verdict, 'succeeded');
    assert.match(
      last?.rollback?.reason ?? '',
      /stopped \(killed\) during its automatic rollback .*finished it before the rollout/,
    );
    assert.equal(last?.rollback?.state, 'succeeded');
    assert.equal(last?.rollback?.toRevision, v1);
    assert.deepEqual(
      await podRevisions(),
      ['db-0', 'db-1', 'db-2'].map((p) => `${p}@${v3}`),
    );
    assert.equal((await read()).metadata?.annotations?.[PHASE], 'succeeded');
  });

  it('is finished by a rollback command, which then finds nothing more to roll back', async () => {
    const { v1 } = await killDuringRollback();
    const run = await runAction(ns, { command: 'rollback', statefulset: 'db', ...fast });
    assert.equal(run.outcome.result, 'no-change', run.logs.join('\n'));
    assert.ok(
      run.logs.some((l) => /finishing that rollback before this rollback/.test(l)),
      run.logs.join('\n'),
    );
    assert.match(run.reports.at(-1)?.rollback?.reason ?? '', /finished it before the rollback/);
    const sts = await read();
    assert.equal(sts.metadata?.annotations?.[PHASE], 'rolled-back');
    assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.partition, 0, 'the original partition');
    assert.equal(sts.status?.currentRevision, v1);
    assert.equal(sts.status?.updateRevision, v1);
    assert.deepEqual(
      await podRevisions(),
      ['db-0', 'db-1', 'db-2'].map((p) => `${p}@${v1}`),
    );
  });
});
