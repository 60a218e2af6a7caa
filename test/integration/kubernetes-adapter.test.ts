// The Kubernetes adapter against the real local control plane (npm run cluster:up).
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { createCluster, type KubernetesCluster } from '../../src/adapters/kubernetes/cluster.ts';
import { KubeError } from '../../src/adapters/kubernetes/errors.ts';
import { createApi } from '../../src/adapters/kubernetes/http.ts';
import { createLock, leaseName } from '../../src/adapters/kubernetes/lock.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import type { Observation, StatefulSetObservation } from '../../src/engine/observation.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { KubeObject, StatefulSetRef } from '../../src/ports/cluster.ts';
import { freshNamespace, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { type CanaryManifestOptions, canaryObject } from '../support/manifests.ts';
import { forbiddenSpecChange } from '../support/versions.ts';

/** StatefulSet `web` as this file applies it: with its partition (0 unless set) and annotations. */
const web = {
  name: 'web',
  replicas: 3,
  image: 'registry.local/app:v1',
  partition: 0,
  annotations: {},
} satisfies CanaryManifestOptions;

async function settled(
  cluster: KubernetesCluster,
  ref: StatefulSetRef,
  replicas: number,
): Promise<Observation> {
  let last: Observation | undefined;
  await waitFor(
    async () => {
      last = await cluster.observe(ref);
      const sts = last?.statefulSet;
      return (
        sts !== undefined &&
        sts.observedGeneration >= sts.generation &&
        sts.readyReplicas === replicas &&
        last?.pods.length === replicas &&
        last.pods.every((p) => p.ready && p.revision === sts.updateRevision)
      );
    },
    30_000,
    `${ref.name} to have ${replicas} ready pods on its update revision`,
  );
  return last!;
}

/** A loopback TCP proxy in front of the API server whose connections a test can cut. */
async function cuttableProxy(target: URL): Promise<{ url: string; cut(): number; close(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    cut() {
      const n = sockets.size;
      for (const s of sockets) s.resetAndDestroy();
      return n;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** The system clock, recording the length of every sleep asked of it. */
function recordingSleeps(sleeps: number[]): Clock {
  return {
    now: () => systemClock.now(),
    sleep: (ms, signal) => {
      sleeps.push(ms);
      return systemClock.sleep(ms, signal);
    },
  };
}

function viaProxy(kubeConfig: KubeConfig, server: string): KubeConfig {
  const copy = new KubeConfig();
  copy.loadFromString(kubeConfig.exportConfig());
  copy.clusters = copy.clusters.map((c) => ({ ...c, server }));
  return copy;
}

describe('Kubernetes adapter on the local control plane', () => {
  let ns: TestNamespace;
  let cluster: KubernetesCluster;
  const retries: string[] = [];

  before(async () => {
    ns = await freshNamespace('kube-adapter');
    cluster = createCluster({
      kubeConfig: ns.kubeConfig,
      fieldManager: 'adapter-test',
      onRetry: (e) => retries.push(`${e.operation.verb} ${e.operation.kind}: ${e.error.message}`),
    });
  });
  after(() => ns.cleanup());

  it('observes a StatefulSet that does not exist as undefined', async () => {
    assert.equal(await cluster.observe({ namespace: ns.name, name: 'absent' }), undefined);
  });

  it('applies a 3-replica StatefulSet and translates it and its pods', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const [applied] = await cluster.apply([canaryObject(web)], {
      dryRun: false,
    });
    assert.equal(applied?.metadata.namespace, ns.name);
    const seen = await settled(cluster, ref, 3);
    const sts = seen.statefulSet;
    assert.deepEqual(
      {
        name: sts.name,
        ns: sts.namespace,
        replicas: sts.replicas,
        partition: sts.partition,
        policy: sts.podManagementPolicy,
      },
      { name: 'web', ns: ns.name, replicas: 3, partition: 0, policy: 'OrderedReady' },
    );
    assert.equal(sts.updateStrategy, 'RollingUpdate');
    assert.deepEqual(sts.images, { app: 'registry.local/app:v1' });
    assert.equal(sts.currentRevision, sts.updateRevision);
    assert.match(sts.updateRevision, /^web-[a-z0-9]+$/);
    assert.deepEqual(
      seen.pods.map((p) => [p.name, p.ordinal, p.phase, p.deleting]),
      [
        ['web-0', 0, 'Running', false],
        ['web-1', 1, 'Running', false],
        ['web-2', 2, 'Running', false],
      ],
    );
    for (const pod of seen.pods) {
      assert.ok(
        pod.readySince !== undefined && pod.readySince <= Date.now() && pod.readySince > Date.now() - 60_000,
      );
      assert.deepEqual(
        pod.containers.map((c) => [c.name, c.image, c.ready, c.restartCount, c.waitingReason]),
        [['app', 'registry.local/app:v1', true, 0, undefined]],
      );
    }
  });

  it('reads the pods in pages: a list of several pages observes and watches every pod', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const paged = createCluster({ kubeConfig: ns.kubeConfig, fieldManager: 'adapter-test', listPage: 2 });
    const observed = await paged.observe(ref);
    assert.deepEqual(
      observed?.pods.map((p) => p.name),
      ['web-0', 'web-1', 'web-2'],
    );
    // The StatefulSet, then its 3 pods in 2 pages.
    assert.equal(paged.stats().requests, 3);
    const stop = new AbortController();
    const seen: Observation[] = [];
    const done = paged.watch(ref, (o) => seen.push(o), stop.signal);
    try {
      await waitFor(() => seen.length > 0, 5_000, 'the first observation');
      assert.deepEqual(
        seen[0]?.pods.map((p) => p.name),
        ['web-0', 'web-1', 'web-2'],
      );
    } finally {
      stop.abort();
      await done;
    }
  });

  it('watches the StatefulSet alone when asked: no pod is listed or watched', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const alone = createCluster({ kubeConfig: ns.kubeConfig, fieldManager: 'adapter-test' });
    const stop = new AbortController();
    const seen: Observation[] = [];
    const done = alone.watch(ref, (o) => seen.push(o), stop.signal, { pods: false });
    try {
      await waitFor(() => seen.length > 0 && alone.stats().watchConnects > 0, 5_000, 'the watch');
      assert.equal(seen[0]?.statefulSet.name, 'web');
      assert.deepEqual(seen[0]?.pods, []);
      // The StatefulSet's list and its watch; with the pods it would be 4 (their list and watch).
      assert.deepEqual([alone.stats().requests, alone.stats().watchConnects], [2, 1]);
    } finally {
      stop.abort();
      await done;
    }
  });

  it('changes nothing on a server-side dry-run apply, yet returns the object as it would be', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const before = (await cluster.observe(ref))!.statefulSet;
    const [dry] = await cluster.apply(
      [canaryObject({ ...web, image: 'registry.local/app:v2', partition: 3 })],
      {
        dryRun: true,
      },
    );
    const spec = dry?.spec as { template: { spec: { containers: { image: string }[] } } };
    assert.equal(spec.template.spec.containers[0]?.image, 'registry.local/app:v2');
    const afterwards = (await cluster.observe(ref))!.statefulSet;
    // Generation and annotations, not resourceVersion: the controller's status writes are not ours.
    assert.deepEqual(
      [afterwards.generation, afterwards.annotations],
      [before.generation, before.annotations],
    );
    assert.deepEqual(afterwards.images, { app: 'registry.local/app:v1' });
  });

  it('refuses a forbidden change with a KubeError naming the object, changing nothing', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const mine = ({ generation, annotations }: StatefulSetObservation) => ({ generation, annotations });
    const before = mine((await cluster.observe(ref))!.statefulSet);
    const forbidden = canaryObject(web) as KubeObject & { spec: Record<string, unknown> };
    forbidden.spec.volumeClaimTemplates = [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ];
    for (const dryRun of [true, false]) {
      await assert.rejects(cluster.apply([forbidden], { dryRun }), (error: unknown) => {
        assert.ok(error instanceof KubeError);
        assert.equal(error.status, 422);
        assert.match(error.message, new RegExp(`StatefulSet ${ns.name}/web`));
        assert.match(error.message, forbiddenSpecChange);
        assert.match(error.message, /fix the manifest/);
        return true;
      });
    }
    assert.deepEqual(mine((await cluster.observe(ref))!.statefulSet), before);
  });

  it('rejects a misspelt field instead of dropping it', async () => {
    const typo = canaryObject(web) as KubeObject & { spec: Record<string, unknown> };
    typo.spec.replica = 3;
    await assert.rejects(cluster.apply([typo], { dryRun: true }), (error: unknown) => {
      assert.ok(error instanceof KubeError);
      // Server-side apply reports schema errors as 500; they must not be retried.
      assert.equal(error.reason, 'Invalid');
      assert.match(error.message, /\.spec\.replica: field not declared in schema/);
      assert.match(error.message, /fix the manifest/);
      return true;
    });
  });

  it('sets the partition and annotations with one merge patch, and removes an annotation with null', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    await cluster.patchStatefulSet(ref, {
      partition: 3,
      annotations: { 'example.com/a': 'one', 'example.com/b': 'two' },
    });
    let sts = (await cluster.observe(ref))!.statefulSet;
    assert.equal(sts.partition, 3);
    assert.equal(sts.annotations['example.com/a'], 'one');
    await cluster.patchStatefulSet(ref, { annotations: { 'example.com/a': null } });
    sts = (await cluster.observe(ref))!.statefulSet;
    assert.equal(sts.partition, 3, 'a patch without partition leaves it alone');
    assert.equal(sts.annotations['example.com/a'], undefined);
    assert.equal(sts.annotations['example.com/b'], 'two');
  });

  it('delivers an observation of each change, and resumes after the connection is cut', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const proxy = await cuttableProxy(new URL(ns.kubeConfig.getCurrentCluster()!.server));
    const watched = createCluster({
      kubeConfig: viaProxy(ns.kubeConfig, proxy.url),
      fieldManager: 'adapter-test',
    });
    const seen: { partition: number }[] = [];
    const stop = new AbortController();
    const done = watched.watch(ref, (o) => seen.push({ partition: o.statefulSet.partition }), stop.signal);
    try {
      await waitFor(() => seen.length > 0, 5_000, 'the first observation');
      assert.equal(seen[0]?.partition, 3);

      // How fast (patch to observation) is a figure of `npm run bench` (stage-decision latency),
      // not something a loaded test machine can be held to.
      await cluster.patchStatefulSet(ref, { partition: 2 });
      await waitFor(() => seen.some((s) => s.partition === 2), 5_000, 'the partition change to be observed');

      const connectsBefore = watched.stats().watchConnects;
      assert.ok(proxy.cut() > 0, 'the watch connections go through the proxy');
      await cluster.patchStatefulSet(ref, { partition: 1 });
      await waitFor(
        () => seen.some((s) => s.partition === 1),
        10_000,
        'the change after the cut to be observed',
      );
      await waitFor(
        () => watched.stats().watchConnects >= connectsBefore + 2,
        5_000,
        'both watches to reconnect',
      );

      // The API request count does not grow while nothing happens (no polling). This wait is the
      // quiet interval under test, not a wait for an event: there is no event for "nothing".
      const requests = watched.stats().requests;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(watched.stats().requests, requests);
    } finally {
      stop.abort();
      await done;
      proxy.close();
    }
    await cluster.patchStatefulSet(ref, { partition: 3 });
  });

  it('lists revisions with numbers, the hash pods carry, images and the change cause copied by the controller', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const v1 = (await cluster.observe(ref))!.statefulSet.updateRevision;
    await cluster.apply(
      [
        canaryObject({
          ...web,
          image: 'registry.local/app:v2',
          partition: 2,
          annotations: { 'kubernetes.io/change-cause': 'deploy v2 from pull request #7' },
        }),
      ],
      { dryRun: false },
    );
    let seen: Observation | undefined;
    await waitFor(
      async () => {
        seen = await cluster.observe(ref);
        const canary = seen?.pods.find((p) => p.ordinal === 2);
        const target = seen?.statefulSet.updateRevision;
        return target !== v1 && canary?.revision === target && canary?.ready === true;
      },
      20_000,
      'pod web-2 to move to the new revision',
    );
    const revisions = await cluster.revisions(ref);
    assert.deepEqual(
      revisions.map((r) => [r.number, r.name, r.images]),
      [
        [1, v1, { app: 'registry.local/app:v1' }],
        [2, seen!.statefulSet.updateRevision, { app: 'registry.local/app:v2' }],
      ],
    );
    assert.equal(revisions[0]?.changeCause, undefined);
    assert.equal(revisions[1]?.changeCause, 'deploy v2 from pull request #7');
    const canary = seen!.pods.find((p) => p.ordinal === 2)!;
    // Pods of a StatefulSet carry the revision's full name in controller-revision-hash.
    assert.equal(canary.revision, revisions[1]?.name);
    assert.equal(revisions[1]?.name, `web-${revisions[1]?.hash}`);
    assert.equal(seen!.pods.find((p) => p.ordinal === 0)?.revision, revisions[0]?.name);
  });

  it('restores the template of an old revision exactly, so the controller points updateRevision back at it', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const [first, second] = await cluster.revisions(ref);
    await cluster.patchStatefulSet(ref, { partition: 3, templateFromRevision: first!.name });
    let sts = (await cluster.observe(ref))!.statefulSet;
    await waitFor(
      async () => {
        sts = (await cluster.observe(ref))!.statefulSet;
        return sts.observedGeneration >= sts.generation;
      },
      10_000,
      'the controller to observe the restored template',
    );
    assert.equal(sts.updateRevision, first!.name);
    assert.deepEqual(sts.images, { app: 'registry.local/app:v1' });
    assert.equal(sts.partition, 3);
    // The controller re-numbers the reused revision (as kubectl rollout undo shows); no new one.
    const after = await cluster.revisions(ref);
    assert.deepEqual(
      after.map((r) => [r.name, r.number]),
      [
        [second!.name, 2],
        [first!.name, 3],
      ],
    );
  });

  it('deletes a pod only while its uid matches', async () => {
    const ref = { namespace: ns.name, name: 'web' };
    const pod = (await cluster.observe(ref))!.pods.find((p) => p.ordinal === 0)!;
    await cluster.deletePod(ref, pod.name, 'not-the-uid');
    const still = (await cluster.observe(ref))!.pods.find((p) => p.ordinal === 0)!;
    assert.equal(still.uid, pod.uid);
    assert.equal(still.deleting, false, 'a wrong uid is refused by the API server');
    await cluster.deletePod(ref, pod.name, pod.uid);
    await waitFor(
      async () => (await cluster.observe(ref))!.pods.find((p) => p.ordinal === 0)?.uid !== pod.uid,
      10_000,
      'web-0 to be replaced',
    ).catch(async (error) => {
      console.log(JSON.stringify(await cluster.observe(ref), null, 1));
      throw error;
    });
    await cluster.deletePod(ref, pod.name, pod.uid);
    await cluster.deletePod(ref, 'web-99', 'no-such-pod');
  });

  it('fails to list revisions of a missing StatefulSet with an error naming it', async () => {
    await assert.rejects(
      cluster.revisions({ namespace: ns.name, name: 'absent' }),
      new RegExp(`StatefulSet ${ns.name}/absent not found`),
    );
  });

  it('made no retries in a run without faults', () => {
    assert.deepEqual(retries, []);
    assert.equal(cluster.stats().retries, 0);
  });
});

describe('watch resumption on the local control plane', () => {
  let ns: TestNamespace;
  before(async () => {
    ns = await freshNamespace('kube-watch');
  });
  after(() => ns.cleanup());

  it('ends the watch with an error when the StatefulSet is deleted under it', async () => {
    const cluster = createCluster({ kubeConfig: ns.kubeConfig, fieldManager: 'adapter-test' });
    const ref = { namespace: ns.name, name: 'doomed' };
    await cluster.apply([canaryObject({ ...web, name: 'doomed', replicas: 1 })], { dryRun: false });
    const stop = new AbortController();
    let observations = 0;
    const watching = cluster.watch(ref, () => observations++, stop.signal);
    // The expectation is attached before anything is awaited: the watch sees the DELETED event,
    // and rejects, as soon as the API server has deleted the object, which can be before the
    // DELETE's own reply reaches this test.
    const ended = assert.rejects(
      watching,
      new RegExp(`StatefulSet ${ns.name}/doomed was deleted while the rollout was watching it`),
    );
    try {
      await waitFor(() => observations > 0, 5_000, 'the first observation');
      await createApi(ns.kubeConfig).request(
        { verb: 'delete', kind: 'StatefulSet' },
        { method: 'DELETE', path: `/apis/apps/v1/namespaces/${ns.name}/statefulsets/doomed` },
      );
      await ended;
    } finally {
      stop.abort();
      // Settled either way once aborted; a failure above is the one to report.
      await ended.catch(() => undefined);
    }
  });

  it('refuses to watch a StatefulSet that does not exist', async () => {
    const cluster = createCluster({ kubeConfig: ns.kubeConfig, fieldManager: 'adapter-test' });
    await assert.rejects(
      cluster.watch({ namespace: ns.name, name: 'absent' }, () => undefined, new AbortController().signal),
      new RegExp(`StatefulSet ${ns.name}/absent not found`),
    );
  });
});

describe('Lease lock on the local control plane', () => {
  let ns: TestNamespace;
  before(async () => {
    ns = await freshNamespace('kube-lock');
  });
  after(() => ns.cleanup());

  async function readLease(name: string): Promise<{ holder?: string; renewTime?: string } | undefined> {
    const api = createApi(ns.kubeConfig);
    try {
      const lease = await api.request<{ spec?: { holderIdentity?: string; renewTime?: string } }>(
        { verb: 'get', kind: 'Lease' },
        { method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases/${name}` },
      );
      return { holder: lease.spec?.holderIdentity, renewTime: lease.spec?.renewTime };
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) return undefined;
      throw error;
    }
  }

  it('is held by one run; a second fails at once naming the holder; release frees it', async () => {
    const ref = { namespace: ns.name, name: 'db' };
    const lock = createLock(ns.kubeConfig, {});
    const first = await lock.acquire(ref, 'https://github.com/o/r/actions/runs/1', 0);
    assert.equal((await readLease(leaseName('db')))?.holder, 'https://github.com/o/r/actions/runs/1');
    // lock-timeout 0 fails at once: the refused acquire never waits to poll the lease again.
    const polls: number[] = [];
    const refusing = createLock(ns.kubeConfig, { clock: recordingSleeps(polls) });
    await assert.rejects(
      refusing.acquire(ref, 'https://github.com/o/r/actions/runs/2', 0),
      (error: unknown) => {
        assert.ok(error instanceof KubeError);
        assert.match(error.message, /StatefulSet kube-lock-[a-f0-9]+\/db is locked by another rollout/);
        assert.match(error.message, /https:\/\/github\.com\/o\/r\/actions\/runs\/1/);
        assert.match(error.message, /lock-timeout/);
        return true;
      },
    );
    assert.deepEqual(polls, [], 'lock-timeout 0 fails at once, without waiting');
    assert.equal(first.lost.aborted, false);
    await first.release();
    assert.equal(await readLease(leaseName('db')), undefined);
    const second = await lock.acquire(ref, 'https://github.com/o/r/actions/runs/2', 0);
    await second.release();
  });

  it('renews while held, and a waiting run gets it as soon as it is released', async () => {
    const ref = { namespace: ns.name, name: 'renewed' };
    const lock = createLock(ns.kubeConfig, {
      leaseDurationSeconds: 2,
      renewEverySeconds: 0.3,
      pollEveryMs: 100,
    });
    const held = await lock.acquire(ref, 'run-a', 0);
    const acquiredAt = Date.parse((await readLease(leaseName('renewed')))?.renewTime ?? '');
    // Renewals carry the lease past the 2 s it had when acquired.
    await waitFor(
      async () => Date.parse((await readLease(leaseName('renewed')))?.renewTime ?? '') > acquiredAt + 2_000,
      30_000,
      'a renewal after the first lease would have expired',
    );
    assert.equal((await readLease(leaseName('renewed')))?.holder, 'run-a');
    await assert.rejects(lock.acquire(ref, 'run-b', 0), /locked by another rollout: run-a/);
    // Run B is refused once and waits (its first poll sleep) before run A releases.
    const polls: number[] = [];
    const waitingLock = createLock(ns.kubeConfig, {
      leaseDurationSeconds: 2,
      renewEverySeconds: 0.3,
      pollEveryMs: 100,
      clock: recordingSleeps(polls),
    });
    const waiting = waitingLock.acquire(ref, 'run-b', 30_000);
    await waitFor(() => polls.length > 0, 30_000, 'run B to be refused and wait');
    await held.release();
    const next = await waiting;
    assert.equal((await readLease(leaseName('renewed')))?.holder, 'run-b');
    await next.release();
  });

  it('is taken over once a dead holder lets the lease expire, and the old holder cannot release it', async () => {
    const ref = { namespace: ns.name, name: 'expired' };
    // A holder that never renews stands for a run that died.
    const dead = await createLock(ns.kubeConfig, {
      leaseDurationSeconds: 1,
      renewEverySeconds: 3_600,
    }).acquire(ref, 'dead-run', 0);
    const lock = createLock(ns.kubeConfig, { leaseDurationSeconds: 30, pollEveryMs: 100 });
    const taken = await lock.acquire(ref, 'new-run', 30_000);
    assert.equal((await readLease(leaseName('expired')))?.holder, 'new-run');
    await dead.release();
    assert.equal(
      (await readLease(leaseName('expired')))?.holder,
      'new-run',
      'release only deletes our own lease',
    );
    await taken.release();
    assert.equal(await readLease(leaseName('expired')), undefined);
  });
});
