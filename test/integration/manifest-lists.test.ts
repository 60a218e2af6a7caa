// `kind: List` manifests (issue 12, item 4), on the real control plane: what
// `kubectl get statefulset,configmap -o yaml` prints, edited and rolled out as it is.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { canaryManifest } from '../support/manifests.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';

const fast = { soak: '0s', 'stage-timeout': '60s', steps: '1, 100%' };

describe('kind: List manifests', () => {
  let ns: TestNamespace;
  beforeEach(async () => {
    ns = await freshNamespace('lists');
  });
  afterEach(() => ns.cleanup());

  it('rolls out the StatefulSet and applies the ConfigMap of a List copied from kubectl get -o yaml', async () => {
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    const v1 = canaryManifest({
      image: 'registry.local/db:v1',
      replicas: 3,
      terminationGracePeriodSeconds: 0,
    });
    assert.equal((await runAction(ns, { manifests: manifestFile([v1]), ...fast })).outcome.result, 'created');
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'db-config' }, data: { mode: 'a' } },
    });
    // As kubectl prints them: server-set fields (uid, resourceVersion, status, ...) and all,
    // managedFields hidden as kubectl hides them by default.
    const live = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    const config = await core.readNamespacedConfigMap({ name: 'db-config', namespace: ns.name });
    live.metadata!.managedFields = undefined;
    config.metadata!.managedFields = undefined;
    live.spec!.template.spec!.containers[0]!.image = 'registry.local/db:v2';
    config.data = { mode: 'b' };
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      metadata: { resourceVersion: '' },
      items: [
        { apiVersion: 'apps/v1', kind: 'StatefulSet', ...live },
        { apiVersion: 'v1', kind: 'ConfigMap', ...config },
      ],
    };
    const run = await runAction(ns, { manifests: manifestFile([JSON.parse(JSON.stringify(list))]), ...fast });
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.deepEqual(
      run.outcome.stages.map((s) => s.partition),
      [2, 0],
    );
    const after = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(after.spec?.template.spec?.containers[0]?.image, 'registry.local/db:v2');
    assert.equal(after.status?.currentRevision, run.outcome.revision);
    const configAfter = await core.readNamespacedConfigMap({ name: 'db-config', namespace: ns.name });
    assert.deepEqual(configAfter.data, { mode: 'b' });
  });
});
