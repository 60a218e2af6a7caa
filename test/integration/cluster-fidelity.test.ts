// Proves that the local control plane behaves like a real cluster where this
// product depends on it: the real StatefulSet controller honours the
// partition, keeps pods below it untouched, updates in reverse ordinal order,
// and the kubelet stand-in reports each simulated behaviour faithfully.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import {
  freshNamespace,
  nodeName,
  readyAfterAnnotation,
  serviceAccountCredentials,
  statefulSet,
  type TestNamespace,
  terminationMessageAnnotation,
  waitFor,
  watchPods,
} from '../cluster/harness.ts';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const revisionLabel = 'controller-revision-hash';

const isReady = (pod: V1Pod | undefined): boolean =>
  pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('the StatefulSet controller on the local control plane', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  const uids = new Map<string, string>();
  const readSts = (): Promise<V1StatefulSet> =>
    apps.readNamespacedStatefulSet({ name: 'web', namespace: ns.name });
  const pod = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace: ns.name });
  const setPartition = (partition: number): Promise<V1StatefulSet> =>
    apps.patchNamespacedStatefulSet(
      {
        name: 'web',
        namespace: ns.name,
        body: { spec: { updateStrategy: { rollingUpdate: { partition } } } },
      },
      mergePatch,
    );

  before(async () => {
    ns = await freshNamespace('fidelity-sts');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(() => ns.cleanup());

  it('brings a 3-replica StatefulSet to Ready on the stand-in node', async () => {
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: statefulSet({ name: 'web', replicas: 3 }),
    });
    await waitFor(
      async () => (await readSts()).status?.readyReplicas === 3,
      15_000,
      'web to have 3 ready replicas',
    );
    const sts = await readSts();
    assert.equal(sts.status?.availableReplicas, 3);
    assert.equal(sts.status?.currentRevision, sts.status?.updateRevision);
    for (const name of ['web-0', 'web-1', 'web-2']) {
      const p = await pod(name);
      assert.equal(p.spec?.nodeName, nodeName, `${name} is bound to ${nodeName}`);
      assert.equal(p.status?.phase, 'Running');
      assert.equal(p.metadata?.labels?.[revisionLabel], sts.status?.updateRevision);
      uids.set(name, p.metadata?.uid ?? '');
    }
  });

  it('moves only pod -2 to the update revision when the image changes under partition 2', async () => {
    const before = (await readSts()).status?.currentRevision;
    await apps.patchNamespacedStatefulSet(
      {
        name: 'web',
        namespace: ns.name,
        body: {
          spec: {
            updateStrategy: { rollingUpdate: { partition: 2 } },
            template: { spec: { containers: [{ name: 'app', image: 'registry.local/app:v2' }] } },
          },
        },
      },
      mergePatch,
    );
    let update = '';
    await waitFor(
      async () => {
        const sts = await readSts();
        update = sts.status?.updateRevision ?? '';
        const p2 = await pod('web-2');
        return update !== before && p2.metadata?.labels?.[revisionLabel] === update && isReady(p2);
      },
      15_000,
      'web-2 to run the update revision and be Ready',
    );
    const sts = await readSts();
    assert.equal(sts.status?.updatedReplicas, 1);
    assert.equal(sts.status?.currentRevision, before);
    assert.notEqual((await pod('web-2')).metadata?.uid, uids.get('web-2'), 'web-2 was recreated');
    for (const name of ['web-0', 'web-1']) {
      const p = await pod(name);
      assert.equal(p.metadata?.uid, uids.get(name), `${name} keeps its uid`);
      assert.equal(p.metadata?.labels?.[revisionLabel], before, `${name} stays on the current revision`);
    }
  });

  it('updates the remaining pods in reverse ordinal order when the partition drops to 0', async () => {
    const update = (await readSts()).status?.updateRevision;
    const order: string[] = [];
    const watch = await watchPods(ns.kubeConfig, ns.name, (type, p) => {
      const name = p.metadata?.name ?? '';
      if (type === 'ADDED' && p.metadata?.labels?.[revisionLabel] === update && !order.includes(name)) {
        order.push(name);
      }
    });
    try {
      await setPartition(0);
      await waitFor(
        async () => {
          const s = (await readSts()).status;
          return s?.currentRevision === update && s?.readyReplicas === 3 && s?.updatedReplicas === 3;
        },
        20_000,
        'all of web to reach the update revision',
      );
    } finally {
      watch.stop();
    }
    assert.deepEqual(order, ['web-1', 'web-0']);
  });

  it('replaces a deleted pod with a new one of the same name', async () => {
    const old = await pod('web-1');
    await core.deleteNamespacedPod({ name: 'web-1', namespace: ns.name });
    await waitFor(
      async () => {
        const p = await pod('web-1');
        return p.metadata?.uid !== old.metadata?.uid && isReady(p);
      },
      15_000,
      'web-1 to be recreated and Ready',
    );
  });

  it('counts a pod as available only minReadySeconds after its Ready transition', async () => {
    const body = statefulSet({ name: 'slow', replicas: 1, minReadySeconds: 2 });
    await apps.createNamespacedStatefulSet({ namespace: ns.name, body });
    const read = async () =>
      (await apps.readNamespacedStatefulSet({ name: 'slow', namespace: ns.name })).status;
    await waitFor(async () => (await read())?.readyReplicas === 1, 10_000, 'slow-0 to be Ready');
    // Measured from the pod's own Ready transition (server time, whole seconds), not from when
    // this test saw it: a loaded machine may see it late, never early.
    const pod = await ns.kubeConfig
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ name: 'slow-0', namespace: ns.name });
    const readyCondition = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const readyAt = new Date(readyCondition?.lastTransitionTime ?? 0).getTime();
    if (Date.now() - readyAt < 1000) {
      assert.equal((await read())?.availableReplicas ?? 0, 0, 'not available right after Ready');
    }
    await waitFor(async () => (await read())?.availableReplicas === 1, 10_000, 'slow-0 to be available');
    // The transition is truncated to the second: available at least minReadySeconds - 1 s after it.
    assert.ok(
      Date.now() - readyAt >= 1000,
      `available ${Date.now() - readyAt} ms after the Ready transition`,
    );
  });
});

describe('the kubelet stand-in', () => {
  let ns: TestNamespace;
  let core: CoreV1Api;
  let watch: { stop(): void };
  const history = new Map<string, { at: number; type: string; pod: V1Pod }[]>();
  const createdAt = new Map<string, number>();
  const events = (name: string) => history.get(name) ?? [];
  const latest = (name: string): V1Pod | undefined => events(name).at(-1)?.pod;
  const container = (name: string) => latest(name)?.status?.containerStatuses?.[0];

  const scenarios: { name: string; image: string; annotations?: Record<string, string> }[] = [
    { name: 'default', image: 'registry.local/app:v1' },
    { name: 'ready-after', image: 'registry.local/app:v1', annotations: { [readyAfterAnnotation]: '2s' } },
    {
      name: 'crashloop',
      image: 'registry.local/app:v2-crashloop',
      annotations: { [terminationMessageAnnotation]: 'panic: config key missing' },
    },
    { name: 'unready', image: 'registry.local/app:unready' },
    { name: 'badpull', image: 'registry.local/app:badpull' },
    { name: 'flaky', image: 'registry.local/app:flaky-1' },
    { name: 'deletion', image: 'registry.local/app:v1' },
  ];

  before(async () => {
    ns = await freshNamespace('fidelity-kubelet');
    core = ns.kubeConfig.makeApiClient(CoreV1Api);
    watch = await watchPods(ns.kubeConfig, ns.name, (type, pod) => {
      const name = pod.metadata?.name ?? '';
      history.set(name, [...events(name), { at: Date.now(), type, pod }]);
    });
    await Promise.all(
      scenarios.map(async (s) => {
        createdAt.set(s.name, Date.now());
        await core.createNamespacedPod({
          namespace: ns.name,
          body: {
            metadata: { name: s.name, annotations: s.annotations ?? {} },
            spec: { containers: [{ name: 'app', image: s.image }] },
          },
        });
      }),
    );
  });
  after(async () => {
    watch.stop();
    await ns.cleanup();
  });

  it('makes a pod Running and Ready about 300 ms after creation, with full container status', async () => {
    await waitFor(() => isReady(latest('default')), 5000, 'pod default to be Ready');
    const p = latest('default');
    const readyAfter =
      (events('default').find((e) => isReady(e.pod))?.at ?? 0) - (createdAt.get('default') ?? 0);
    // Not before the stand-in's ~300 ms start; no upper bound (a loaded machine is slower).
    assert.ok(readyAfter >= 250, `Ready after ${readyAfter} ms`);
    assert.equal(p?.spec?.nodeName, nodeName);
    assert.equal(p?.status?.phase, 'Running');
    const types = (p?.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);
    for (const t of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'])
      assert.ok(types.includes(t), t);
    const c = container('default');
    assert.equal(c?.image, 'registry.local/app:v1');
    assert.ok(c?.imageID && c.containerID && c.started && c.ready && c.state?.running?.startedAt);
  });

  it('delays Ready by the ready-after annotation', async () => {
    await waitFor(() => isReady(latest('ready-after')), 6000, 'pod ready-after to be Ready');
    const readyEvent = events('ready-after').find((e) => isReady(e.pod));
    const delay = (readyEvent?.at ?? 0) - (createdAt.get('ready-after') ?? 0);
    assert.ok(delay >= 1800, `Ready after ${delay} ms`);
    const runningFirst = events('ready-after').some(
      (e) => e.pod.status?.phase === 'Running' && !isReady(e.pod),
    );
    assert.ok(runningFirst, 'Running but not Ready before the delay');
  });

  it('crash-loops an image tagged crashloop: Running, CrashLoopBackOff, restarts growing, never Ready', async () => {
    await waitFor(
      () => (container('crashloop')?.restartCount ?? 0) >= 2,
      8000,
      'a second restart of crashloop',
    );
    const p = latest('crashloop');
    const c = container('crashloop');
    assert.equal(p?.status?.phase, 'Running');
    assert.equal(c?.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(c?.ready, false);
    assert.equal(c?.lastState?.terminated?.exitCode, 1);
    assert.equal(c?.lastState?.terminated?.reason, 'Error');
    assert.equal(c?.lastState?.terminated?.message, 'panic: config key missing');
    assert.ok(!events('crashloop').some((e) => isReady(e.pod)), 'never Ready');
  });

  it('keeps an image tagged unready Running but never Ready', async () => {
    await waitFor(() => latest('unready')?.status?.phase === 'Running', 5000, 'pod unready to run');
    // Still not Ready once the ready-after pod, created with it, has become Ready (after 2 s):
    // an event of the same stand-in, so a slow machine delays both alike.
    await waitFor(() => isReady(latest('ready-after')), 10_000, 'pod ready-after to be Ready');
    assert.equal(container('unready')?.started, true);
    assert.ok(container('unready')?.state?.running);
    assert.ok(!events('unready').some((e) => isReady(e.pod)), 'never Ready');
  });

  it('leaves an image tagged badpull Pending in ImagePullBackOff', async () => {
    const pulling = () => container('badpull')?.state?.waiting?.reason === 'ImagePullBackOff';
    await waitFor(pulling, 5000, 'pod badpull to report ImagePullBackOff');
    assert.equal(latest('badpull')?.status?.phase, 'Pending');
    assert.equal(container('badpull')?.ready, false);
  });

  it('restarts an image tagged flaky once: Ready, then briefly not Ready with restartCount 1, then Ready', async () => {
    const readyAgain = () => isReady(latest('flaky')) && container('flaky')?.restartCount === 1;
    await waitFor(readyAgain, 8000, 'pod flaky to be Ready again after its restart');
    const phases = events('flaky')
      .filter((e) => e.pod.status?.phase === 'Running')
      .map(
        (e) =>
          `${isReady(e.pod) ? 'ready' : 'unready'}/${e.pod.status?.containerStatuses?.[0]?.restartCount}`,
      );
    const compact = phases.filter((s, i) => s !== phases[i - 1]);
    assert.deepEqual(compact.slice(-3), ['ready/0', 'unready/1', 'ready/1']);
  });

  it('removes a deleted pod after its grace period, capped at one second', async () => {
    await waitFor(() => isReady(latest('deletion')), 5000, 'pod deletion to be Ready');
    const deletedAt = Date.now();
    await core.deleteNamespacedPod({ name: 'deletion', namespace: ns.name });
    const lingering = await core.readNamespacedPod({ name: 'deletion', namespace: ns.name });
    assert.ok(
      lingering.metadata?.deletionTimestamp,
      'the pod waits for the kubelet with a deletionTimestamp',
    );
    // Capped: removed well within the pod's own grace period (30 s by default), not at its end.
    const graceMs = (lingering.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    await waitFor(
      () => events('deletion').at(-1)?.type === 'DELETED',
      graceMs / 2,
      'pod deletion to be removed',
    );
    const took = (events('deletion').at(-1)?.at ?? 0) - deletedAt;
    assert.ok(took >= 800, `removed after ${took} ms`);
    assert.ok(took < graceMs, `removed after ${took} ms, grace period ${graceMs} ms`);
  });
});

describe('authentication and RBAC on the local control plane', () => {
  let ns: TestNamespace;
  before(async () => {
    ns = await freshNamespace('fidelity-rbac');
  });
  after(() => ns.cleanup());

  it('holds a ServiceAccount token from the TokenRequest API to exactly what RBAC grants', async () => {
    const sa = await serviceAccountCredentials(ns, 'deployer');
    const asSa = sa.kubeConfig.makeApiClient(CoreV1Api);
    const listPods = () => asSa.listNamespacedPod({ namespace: ns.name });
    await assert.rejects(listPods, (e: { code?: number }) => e.code === 403, 'forbidden before any binding');
    const rbac = ns.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns.name,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: 'deployer-reads-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns.name }],
      },
    });
    await waitFor(async () => (await listPods()).items !== undefined, 5000, 'the Role to take effect');
    await assert.rejects(
      () => asSa.deleteCollectionNamespacedPod({ namespace: ns.name }),
      (e: { code?: number }) => e.code === 403,
      'still forbidden to delete',
    );
  });
});
