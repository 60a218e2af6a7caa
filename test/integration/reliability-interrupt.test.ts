// Interruption is safe and resumable (issue 6, item 2): the bundled action, SIGTERMed during
// the second stage's soak, exits non-zero without finishing the stage or lowering the partition,
// records `cancelled` and the stage on the StatefulSet and releases its Lease. A rerun of the
// same change resumes at that stage without restarting pods already on the new revision; a
// rerun of a different change starts over from a frozen partition.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { freshNamespace, statefulSet, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { canaryManifest } from '../support/manifests.ts';
import { type BundleProcess, githubEnv, inputEnv, pushEvent, startBundle } from '../support/run/bundle.ts';
import { manifestFile, recordCluster } from '../support/run/in-process.ts';

const replicas = 5;

interface StageJson {
  readonly partition: number;
  readonly verdict: string;
  readonly startedAt?: string;
}

describe('a rollout interrupted by SIGTERM', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('interrupt');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: statefulSet({ name: 'db', replicas }),
    });
    await waitFor(async () => (await read()).status?.readyReplicas === replicas, 60_000, 'db to be Ready');
  });
  afterEach(() => ns.cleanup());

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
  const uids = async () => {
    const pods = await core.listNamespacedPod({ namespace: ns.name });
    return new Map(pods.items.map((p) => [p.metadata?.name ?? '', p.metadata?.uid ?? '']));
  };
  const start = (image: string, runId: string): BundleProcess =>
    startBundle({
      ...inputEnv(
        {
          kubeconfig: readFileSync(ns.kubeconfigPath, 'utf8'),
          manifests: manifestFile([canaryManifest({ image, replicas })]),
          soak: '8s',
          'stage-timeout': '2m',
          'github-token': '',
        },
        '',
      ),
      ...githubEnv('http://127.0.0.1:9', 'push', pushEvent('0'.repeat(40)), { GITHUB_RUN_ID: runId }),
    });

  /** Starts a rollout of `image` and SIGTERMs it once stage 2 (partition 2) has its pods Ready. */
  const interruptAtStage2 = async (image: string) => {
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const run = start(image, '100');
    await waitFor(
      async () => {
        const sts = await read();
        return sts.spec?.updateStrategy?.rollingUpdate?.partition === 2 && sts.status?.updatedReplicas === 3;
      },
      60_000,
      'stage 2 to update pods db-3 and db-2',
    );
    await waitFor(
      async () => (await read()).status?.readyReplicas === replicas,
      30_000,
      'stage 2 pods Ready',
    );
    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    const exit = await run.exited;
    record.stop();
    return { run, exit, signalledAt, record };
  };

  it('stops at once, keeps the partition, records cancelled at stage 2, releases the Lease, then resumes there', async () => {
    const { run, exit, signalledAt, record } = await interruptAtStage2('registry.local/db:v2');
    const log = run.stdout() + run.stderr();
    assert.notEqual(exit.code, 0, log);
    // Stopped, not finished: no partition written after the signal, stage 2 recorded as cancelled
    // (below). How many milliseconds the exit took is not held to a bound.
    assert.deepEqual(record.partitions, [0, 5, 4, 2], 'partitions, none after the signal');
    for (const [partition, at] of record.partitionTimes)
      assert.ok(at < signalledAt, `partition ${partition}`);
    const sts = await read();
    assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.partition, 2);
    assert.equal(sts.metadata?.annotations?.['statefulset-canary.io/phase'], 'cancelled');
    assert.equal(sts.metadata?.annotations?.['statefulset-canary.io/stage'], '2');
    assert.equal(run.outputs().get('result'), 'cancelled', log);
    assert.match(log, /::error::.*cancelled at stage 2/);
    const leases = await ns.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .listNamespacedLease({ namespace: ns.name });
    assert.deepEqual(
      leases.items.filter((l) => l.spec?.holderIdentity).map((l) => l.metadata?.name),
      [],
      'no Lease is held',
    );

    const updated = await uids();
    const resumed = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const rerun = start('registry.local/db:v2', '101');
    const rerunExit = await rerun.exited;
    resumed.stop();
    assert.equal(rerunExit.code, 0, rerun.stdout() + rerun.stderr());
    assert.equal(rerun.outputs().get('result'), 'succeeded');
    assert.deepEqual(resumed.partitions, [2, 0], 'resumed at partition 2, not frozen again');
    const stages = JSON.parse(rerun.outputs().get('stages') ?? '[]') as StageJson[];
    assert.deepEqual(
      stages.map((s) => [s.partition, s.verdict, s.startedAt !== undefined]),
      [
        [4, 'passed', false],
        [2, 'passed', true],
        [0, 'passed', true],
      ],
      'stage 1 passed in the interrupted run; the interrupted stage 2 is gated again',
    );
    const now = await uids();
    for (const pod of ['db-4', 'db-3', 'db-2'])
      assert.equal(now.get(pod), updated.get(pod), `${pod} was restarted`);
    const done = await read();
    assert.equal(done.status?.currentRevision, done.status?.updateRevision);
    assert.equal(done.metadata?.annotations?.['statefulset-canary.io/phase'], 'succeeded');
  });

  it('starts a different change over from a frozen partition after an interruption', async () => {
    const { exit } = await interruptAtStage2('registry.local/db:v2');
    assert.notEqual(exit.code, 0);
    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const rerun = start('registry.local/db:v3', '102');
    const rerunExit = await rerun.exited;
    record.stop();
    assert.equal(rerunExit.code, 0, rerun.stdout() + rerun.stderr());
    assert.equal(rerun.outputs().get('result'), 'succeeded');
    assert.deepEqual(record.partitions, [2, 5, 4, 2, 0]);
    const sts = await read();
    assert.equal(sts.spec?.template?.spec?.containers[0]?.image, 'registry.local/db:v3');
    assert.equal(sts.status?.currentRevision, sts.status?.updateRevision);
  });
});
