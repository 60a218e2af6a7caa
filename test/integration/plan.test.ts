// `command: plan` (issue 16) on the real local control plane: what a merge would do, against the
// live StatefulSet, computed with the rollout's own validation; nothing changes in the cluster.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, PatchStrategy, setHeaderOptions, type V1StatefulSet } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { canaryManifest } from '../support/manifests.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';
import { forbiddenSpecChange } from '../support/versions.ts';

describe('plan', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  beforeEach(async () => {
    ns = await freshNamespace('plan');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
  });
  afterEach(() => ns.cleanup());

  const db = (image = 'registry.local/db:v1') => canaryManifest({ image, replicas: 5 });
  const plan = (objects: readonly object[], extra: Record<string, string> = {}) =>
    runAction(ns, { command: 'plan', manifests: manifestFile(objects), steps: '1, 50%, 100%', ...extra });
  const deployed = async () => {
    assert.equal(
      (await runAction(ns, { manifests: manifestFile([db()]), soak: '0s' })).outcome.result,
      'created',
    );
    return (await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name })).metadata
      ?.resourceVersion;
  };
  const unchanged = async (version: string | undefined) => {
    const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(sts.metadata?.generation, 1, 'the plan changed nothing');
    return version;
  };
  const withContainer = (sts: V1StatefulSet, change: object) => {
    const spec = sts.spec!.template.spec!;
    spec.containers = [{ ...spec.containers[0]!, ...change }];
    return sts;
  };

  it('shows an image change with the stages, the pods each restarts, and the template diff', async () => {
    const version = await deployed();
    const run = await plan([db('registry.local/db:v2')]);
    const text = run.outcome.text ?? '';
    assert.match(
      text,
      /StatefulSet plan-[a-f0-9]+\/db: 5 replicas, partition 5 \(frozen\), at most 1 pod down at once, then:/,
    );
    assert.match(text, /stage 1: partition 4, restarts ordinal 4 on the new revision/);
    assert.match(text, /stage 2: partition 2, restarts ordinal 3, 2/);
    assert.match(text, /stage 3: partition 0, restarts ordinal 1, 0/);
    assert.match(text, /image app: registry.local\/db:v1 -> registry.local\/db:v2/);
    assert.match(text, /--- live\n {2}\+\+\+ manifests/);
    assert.match(text, /-\s+- image: registry.local\/db:v1\n {2}\+\s+- image: registry.local\/db:v2/);
    await unchanged(version);
  });

  it('shows an env change and a resources change as a diff, server defaults left out', async () => {
    await deployed();
    const next = withContainer(db(), {
      env: [{ name: 'CACHE_MB', value: '512' }],
      resources: { requests: { cpu: '250m', memory: '256Mi' } },
    });
    const text = (await plan([next])).outcome.text ?? '';
    assert.match(text, /\+ +- name: CACHE_MB/);
    assert.match(text, /\+ +cpu: 250m/);
    assert.doesNotMatch(
      text,
      /^ {2}[-+] +(terminationMessagePath|dnsPolicy|schedulerName):/m,
      'defaults on both sides do not show',
    );
  });

  it('hides an env value change, old and new, and shows both with plan-show-values', async () => {
    const withEnv = (value: string) => withContainer(db(), { env: [{ name: 'DB_PASSWORD', value }] });
    const created = await runAction(ns, { manifests: manifestFile([withEnv('old-s3cret')]), soak: '0s' });
    assert.equal(created.outcome.result, 'created');
    const hidden = (await plan([withEnv('new-s3cret')])).outcome.text ?? '';
    assert.match(hidden, /^ {2}- +value: \(hidden\)\n {2}\+ +value: \(hidden, value changed\)$/m);
    assert.match(hidden, /stage 1: partition 4/, 'still a staged change');
    assert.doesNotMatch(hidden, /s3cret/, 'neither the live value nor the new one');
    const shown = (await plan([withEnv('new-s3cret')], { 'plan-show-values': 'true' })).outcome.text ?? '';
    assert.match(shown, /^ {2}- +value: old-s3cret\n {2}\+ +value: new-s3cret$/m);
  });

  it('says the merge would be refused for a forbidden change, and why, failing the step', async () => {
    await deployed();
    const forbidden = db();
    forbidden.spec = { ...forbidden.spec!, serviceName: 'other' };
    const run = await plan([forbidden]);
    assert.equal(run.outcome.result, 'failed');
    assert.match(run.outcome.text ?? '', new RegExp(`would be refused: .*(${forbiddenSpecChange.source})`));
    assert.match(run.outcome.text ?? '', /recreate the StatefulSet/);
  });

  it('says no change when the template is the live one', async () => {
    await deployed();
    const run = await plan([db()]);
    assert.equal(run.outcome.result, 'no-change');
    assert.match(run.outcome.text ?? '', /no change to the pod template/);
  });

  it('shows a new StatefulSet, and the other objects as created, changed or unchanged', async () => {
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'db-config' }, data: { a: '1' } };
    const run = await plan([db(), config]);
    assert.match(run.outcome.text ?? '', /db: new, created with 5 replicas \(no canary stages\)/);
    assert.match(run.outcome.text ?? '', /ConfigMap plan-[a-f0-9]+\/db-config: created/);
  });

  it('warns that another field manager owns the partition, and says what to do', async () => {
    await deployed();
    await apps.patchNamespacedStatefulSet(
      {
        name: 'db',
        namespace: ns.name,
        fieldManager: 'argocd-controller',
        body: { spec: { updateStrategy: { rollingUpdate: { partition: 3 } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const text = (await plan([db('registry.local/db:v2')])).outcome.text ?? '';
    assert.match(
      text,
      /warning: spec.updateStrategy.rollingUpdate.partition is owned by argocd-controller; .*apply: false/,
    );
  });
});
