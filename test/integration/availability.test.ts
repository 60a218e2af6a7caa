// Availability, not just readiness (issue 12, item 3), on the real controller: with
// minReadySeconds a stage passes only once the controller counts its pods available
// (status.availableReplicas), and never before each pod has been Ready for minReadySeconds.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, type V1Pod, type V1StatefulSet, Watch } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { canaryManifest } from '../support/manifests.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';

interface StsEvent {
  readonly rv: number;
  readonly partition: number;
  readonly available: number;
  readonly at: number;
}

describe('availability with minReadySeconds', () => {
  let ns: TestNamespace;
  beforeEach(async () => {
    ns = await freshNamespace('available');
  });
  afterEach(() => ns.cleanup());

  const db = (image: string) =>
    canaryManifest({ image, replicas: 3, minReadySeconds: 3, terminationGracePeriodSeconds: 0 });

  /** Every version of the StatefulSet, and when each pod was first seen Ready on a revision. */
  async function record() {
    const events: StsEvent[] = [];
    const readyAt = new Map<string, number>();
    const watch = new Watch(ns.kubeConfig);
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    const stsList = await apps.listNamespacedStatefulSet({ namespace: ns.name });
    const podList = await core.listNamespacedPod({ namespace: ns.name });
    const a = await watch.watch(
      `/apis/apps/v1/namespaces/${ns.name}/statefulsets`,
      { resourceVersion: stsList.metadata?.resourceVersion },
      (_type: string, sts: V1StatefulSet) =>
        events.push({
          rv: Number(sts.metadata?.resourceVersion),
          partition: sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0,
          available: sts.status?.availableReplicas ?? 0,
          at: Date.now(),
        }),
      () => undefined,
    );
    const b = await watch.watch(
      `/api/v1/namespaces/${ns.name}/pods`,
      { resourceVersion: podList.metadata?.resourceVersion },
      (type: string, pod: V1Pod) => {
        const key = `${pod.metadata?.name}@${pod.metadata?.labels?.['controller-revision-hash']}`;
        const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (type !== 'DELETED' && ready && !readyAt.has(key)) readyAt.set(key, Date.now());
      },
      () => undefined,
    );
    return {
      events,
      readyAt,
      stop() {
        a.abort();
        b.abort();
      },
    };
  }

  it('passes a stage only once availableReplicas counts the canary, minReadySeconds after it turned Ready', async () => {
    const inputs = { soak: '1s', 'stage-timeout': '60s', steps: '1, 100%' };
    const created = await runAction(ns, { manifests: manifestFile([db('registry.local/db:v1')]), ...inputs });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
    const rec = await record();
    const run = await runAction(ns, { manifests: manifestFile([db('registry.local/db:v2')]), ...inputs });
    rec.stop();
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    const target = run.outcome.revision;
    // The write that lowered the partition from 2 (the canary stage) to 0, and the version before it.
    const i = rec.events.findIndex(
      (e, k) => k > 0 && e.partition === 0 && rec.events[k - 1]?.partition === 2,
    );
    assert.ok(i > 0, JSON.stringify(rec.events));
    const advance = rec.events[i]!;
    const before = rec.events[i - 1]!;
    assert.equal(before.available, 3, `availableReplicas when stage 1 passed: ${JSON.stringify(rec.events)}`);
    const canaryReady = rec.readyAt.get(`db-2@${target}`);
    assert.ok(canaryReady !== undefined, [...rec.readyAt.keys()].join(', '));
    // minReadySeconds (3 s) is longer than the soak (1 s): no stage passes sooner (50 ms for two watches).
    assert.ok(
      advance.at - canaryReady >= 3000 - 50,
      `stage 1 passed ${advance.at - canaryReady} ms after db-2 turned Ready`,
    );
  });
});
