// A forced watch re-list (issue 12, item 6): etcd is compacted under a running rollout and its
// watches are cut, so the API server answers their resume (from a resourceVersion etcd no longer
// has) with 410 Gone; the rollout re-lists and ends exactly as a rollout without it.
//
// On its own control plane: the shared one serves watches from the API server's watch cache,
// which keeps its own history and does not answer a resume with 410 after an etcd compaction.
// Here the watch cache is off for pods and StatefulSets (--watch-cache-sizes=...#0), so a resume
// reaches etcd, as it does on a cluster whose cache was just rebuilt. The watches are cut
// through the fault proxy between the runner and the API server (a restarted API server or a
// load balancer's idle timeout does the same); otherwise they would resume only after their
// timeoutSeconds (4 to 5 minutes).
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { selectPrivateCluster } from '../support/private-cluster.ts';

selectPrivateCluster('watch-relist', { apiServerArgs: ['--watch-cache-sizes=pods#0,statefulsets.apps#0'] });
const { ensureClusterUp, stopCluster } = await import('../cluster/lifecycle.ts');
const { freshNamespace, waitFor } = await import('../cluster/harness.ts');
const { readState } = await import('../cluster/control-plane/state.ts');
const { startFaultProxy } = await import('../support/faults/proxy.ts');
const { canaryManifest } = await import('../support/manifests.ts');
const { manifestFile, recordCluster, runAction, runEngine } = await import('../support/run/in-process.ts');

type Namespace = Awaited<ReturnType<typeof freshNamespace>>;
type Proxy = Awaited<ReturnType<typeof startFaultProxy>>;

/** POSTs to etcd's v3 JSON gateway at the cluster's client URL. */
async function etcd(path: string, body: object): Promise<Record<string, unknown>> {
  const state = readState();
  if (!state) throw new Error('the private cluster has no state');
  const res = await fetch(`http://127.0.0.1:${state.etcdClientPort}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Compacts etcd at its current revision: every older revision is gone. */
async function compactEtcd(): Promise<number> {
  const range = await etcd('/v3/kv/range', { key: Buffer.from('compact-probe').toString('base64') });
  const revision = Number((range.header as { revision: string }).revision);
  await etcd('/v3/kv/compaction', { revision, physical: true });
  return revision;
}

describe('a watch resumed after an etcd compaction (410 Gone)', () => {
  let ns: Namespace;
  let proxy: Proxy;
  before(async () => {
    const up = await ensureClusterUp();
    console.log(
      `private cluster watch-relist: Kubernetes ${up.version}, up in ${(up.elapsedMs / 1000).toFixed(1)} s`,
    );
  });
  after(() => stopCluster());
  beforeEach(async () => {
    ns = await freshNamespace('relist');
    proxy = await startFaultProxy(ns.kubeConfig);
  });
  afterEach(async () => {
    await proxy.close();
    await ns.cleanup();
  });

  const inputs = (image: string) => ({
    manifests: manifestFile([canaryManifest({ image, replicas: 5, terminationGracePeriodSeconds: 0 })]),
    soak: '4s',
    'stage-timeout': '60s',
    steps: '1, 50%, 100%',
  });
  const rollout = (image: string) =>
    runEngine({ kubeConfig: proxy.kubeConfig(ns.name), namespace: ns.name, inputs: inputs(image) });

  it('re-lists and ends exactly as the same rollout without the compaction', async () => {
    assert.equal((await runAction(ns, inputs('registry.local/db:v1'))).outcome.result, 'created');
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });

    const plainRecord = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const plain = await rollout('registry.local/db:v2');
    plainRecord.stop();
    assert.equal(plain.outcome.result, 'succeeded', plain.logs.join('\n'));

    const record = await recordCluster(ns.kubeConfig, ns.name, 'db');
    const running = rollout('registry.local/db:v3');
    await waitFor(
      async () => {
        const sts = (await read()).status;
        return (
          sts?.updatedReplicas === 1 && sts.readyReplicas === 5 && sts.updateRevision !== sts.currentRevision
        );
      },
      60_000,
      'the canary db-4 Ready on v3 (its soak running)',
    );
    // Writes after the last event the runner saw, so its resourceVersion is older than the compaction.
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'bump' } } });
    await core.replaceNamespacedConfigMap({
      name: 'bump',
      namespace: ns.name,
      body: { metadata: { name: 'bump' }, data: { a: '1' } },
    });
    const compacted = await compactEtcd();
    const before = proxy.seen.length;
    const cut = proxy.cutWatches();
    const run = await running;
    record.stop();
    assert.ok(cut >= 2, `the StatefulSet's and the pods' watches were cut (${cut})`);
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));

    // The resumes met the compaction (410 Gone) and the runner listed both resources again.
    const after = proxy.seen.slice(before).map((r) => r.url);
    const relists = after.filter((url) => !/[?&]watch=true/.test(url) && /\/(pods|statefulsets)\?/.test(url));
    const resumes = after.filter((url) => /[?&]watch=true/.test(url));
    const staleResume = resumes.some(
      (url) => Number(new URL(url, 'https://x').searchParams.get('resourceVersion')) < compacted,
    );
    assert.ok(staleResume, `a watch resumed from before revision ${compacted}: ${resumes.join('\n')}`);
    assert.ok(
      relists.some((u) => u.includes('/pods?')),
      `pods re-listed: ${after.join('\n')}`,
    );
    assert.ok(
      relists.some((u) => u.includes('/statefulsets?')),
      `StatefulSet re-listed: ${after.join('\n')}`,
    );

    // Exactly as without it: the same partitions, stages and verdicts, every pod on the target.
    assert.deepEqual(record.partitions, plainRecord.partitions);
    assert.deepEqual(record.partitions, [0, 5, 4, 2, 0]);
    const shape = (r: typeof run) => r.outcome.stages.map((s) => [s.partition, s.ordinals, s.verdict]);
    assert.deepEqual(shape(run), shape(plain));
    const sts = await read();
    assert.equal(sts.status?.currentRevision, run.outcome.revision);
    assert.equal(sts.status?.updatedReplicas, 5);
    const order = record.podRevisions.filter(([, , r]) => r === run.outcome.revision).map(([, pod]) => pod);
    const plainOrder = plainRecord.podRevisions
      .filter(([, , r]) => r === plain.outcome.revision)
      .map(([, pod]) => pod);
    assert.deepEqual(order, plainOrder);
  });
});
