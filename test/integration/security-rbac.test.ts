// Least privilege (issue 6, item 6): a ServiceAccount bound to exactly the Role in
// examples/rbac.yaml, with a token minted by the TokenRequest API, creates a StatefulSet, rolls
// a change out, rolls a crashlooping canary back automatically (deleting the stuck pod), rolls
// back by hand and reads the status. Taking one verb away (pods delete) makes the path that
// needs it fail with a 403 that names the verb and the resource.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeConfig, V1Role, V1RoleBinding, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { repoRoot } from '../cluster/control-plane/state.ts';
import { freshNamespace, statefulSet, type TestNamespace } from '../cluster/harness.ts';
import type { FaultProxy } from '../support/faults/proxy.ts';
import { manifestFile, runEngine } from '../support/run/in-process.ts';
import {
  type BoundServiceAccount,
  bindServiceAccount,
  permissionsOf,
  rolePermissions,
} from '../support/service-account.ts';

const documents = loadAll(readFileSync(join(repoRoot, 'examples/rbac.yaml'), 'utf8')) as {
  kind: string;
}[];
const role = documents.find((d) => d.kind === 'Role') as V1Role;
const binding = documents.find((d) => d.kind === 'RoleBinding') as V1RoleBinding;

function manifests(image: string): string {
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'db' },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'db', port: 5432 }] },
  };
  const sts: V1StatefulSet = statefulSet({ name: 'db', replicas: 3, image });
  delete sts.spec?.updateStrategy;
  return manifestFile([service, sts]);
}

describe('a service account bound to exactly the Role in examples/rbac.yaml', () => {
  let ns: TestNamespace;
  let sa: BoundServiceAccount;
  let kubeConfig: KubeConfig;
  let proxy: FaultProxy;
  before(async () => {
    ns = await freshNamespace('rbac');
    sa = await bindServiceAccount(ns, 'statefulset-canary', role, binding);
    ({ kubeConfig, proxy } = sa);
  });
  after(async () => {
    await sa.close();
    await ns.cleanup();
  });

  const run = (inputs: Record<string, string>) =>
    runEngine({ kubeConfig, namespace: ns.name, inputs: { soak: '1s', 'stage-timeout': '1m', ...inputs } });

  it('creates, rolls out, rolls a crashloop back, rolls back by hand and reads the status', async () => {
    const created = await run({ manifests: manifests('registry.local/db:v1') });
    assert.equal(created.outcome.result, 'created', created.outcome.failure);
    // Long enough (3 stages of 5 s) for the Lease to be renewed (every 10 s).
    const rolled = await run({ manifests: manifests('registry.local/db:v2'), soak: '5s' });
    assert.equal(rolled.outcome.result, 'succeeded', rolled.outcome.failure);
    const manual = await run({ command: 'rollback', statefulset: 'db', 'rollback-steps': '1, 100%' });
    assert.equal(
      manual.outcome.result,
      'rolled-back',
      `${manual.outcome.failure}\n${manual.logs.join('\n')}`,
    );
    const crash = await run({ manifests: manifests('registry.local/db:v3-crashloop') });
    assert.equal(crash.outcome.result, 'rolled-back', `${crash.outcome.failure}\n${crash.logs.join('\n')}`);
    assert.ok(
      crash.logs.some((l) => /^info: Deleting db-2/.test(l)),
      'the stuck canary was deleted',
    );
    const status = await run({ command: 'status', statefulset: 'db' });
    assert.match(status.outcome.text ?? '', /db-0/);
    // The failed canary was explained (pod get, events list) and its crash log asked for (pods/log
    // get: authorized by the Role, whether or not the node's kubelet serves it); claims are read
    // only for pods that have them, and this StatefulSet has none.
    assert.ok(
      crash.logs.some((l) => /Stuck: db-2 .*CrashLoopBackOff/.test(l)),
      `the crash loop was diagnosed\n${crash.logs.join('\n')}`,
    );
    const unusedHere = ['/persistentvolumeclaims get'];
    const used = new Set(proxy.seen.flatMap(permissionsOf));
    assert.deepEqual(
      [...used].sort(),
      rolePermissions(role)
        .filter((p) => !unusedHere.includes(p))
        .sort(),
      'the Role grants exactly what was used',
    );
  });

  it('without the diagnosis rules, says what it could not read and rolls back as before', async () => {
    const diagnosis = new Set(['events', 'persistentvolumeclaims']);
    const rules = (role.rules ?? [])
      .filter((r) => !r.resources?.some((res) => diagnosis.has(res)))
      .map((r) => (r.resources?.includes('pods') ? { ...r, verbs: r.verbs.filter((v) => v !== 'get') } : r));
    await sa.setRules(rules, { attributes: { verb: 'get', resource: 'pods' }, allowed: false });
    const crash = await run({ manifests: manifests('registry.local/db:v5-crashloop') });
    assert.equal(crash.outcome.result, 'rolled-back', `${crash.outcome.failure}\n${crash.logs.join('\n')}`);
    assert.ok(
      crash.logs.some((l) =>
        /Stuck: db-2 Running, CrashLoopBackOff: .*\(could not read pods \(forbidden\)\)/.test(l),
      ),
      `the diagnosis says what it could not read\n${crash.logs.join('\n')}`,
    );
    await sa.setRules(undefined);
  });

  it('fails with a 403 naming the verb and resource when the Role lacks pods delete', async () => {
    const rules = (role.rules ?? []).map((r) =>
      r.resources?.includes('pods') ? { ...r, verbs: r.verbs.filter((v) => v !== 'delete') } : r,
    );
    await sa.setRules(rules, { attributes: { verb: 'delete', resource: 'pods' }, allowed: false });
    await assert.rejects(run({ manifests: manifests('registry.local/db:v4-crashloop') }), (error: Error) => {
      assert.match(error.message, /delete Pod .*db-2 failed \(403\)/);
      assert.match(error.message, /cannot delete resource "pods"/);
      assert.match(
        error.message,
        /may not delete Pod in namespace .*: add that verb and resource to its Role/,
      );
      return true;
    });
  });

  it('refuses an HTTP analysis check before any change without the opt-in pods/proxy rule, and runs it with the rule', async () => {
    const withPort = (image: string) => {
      const sts: V1StatefulSet = statefulSet({
        name: 'db',
        replicas: 3,
        image,
        ports: [{ name: 'http', containerPort: 8080 }],
      });
      delete sts.spec?.updateStrategy;
      return manifestFile([sts]);
    };
    const analysis = '- name: healthz\n  http: { port: http, path: /healthz }\n  interval: 500ms\n  count: 1';
    const proxyGet = { verb: 'get', resource: 'pods', subresource: 'proxy' };
    // The Role as in examples/rbac.yaml again (the test before took pods delete away).
    await sa.setRules(undefined, { attributes: { verb: 'delete', resource: 'pods' }, allowed: true });
    const seen = proxy.seen.length;
    await assert.rejects(run({ manifests: withPort('registry.local/db:v6'), analysis }), (error: Error) => {
      assert.match(
        error.message,
        /check "healthz" reaches the pods of StatefulSet .*db through the API server's pod proxy, but this run may not get pods\/proxy in namespace/,
      );
      assert.match(
        error.message,
        /Add the opt-in rule from the RBAC table in docs\/permissions\.md .*Nothing was changed in the cluster/,
      );
      return true;
    });
    const writes = proxy.seen
      .slice(seen)
      .filter(
        (r) => r.method !== 'GET' && !r.url.includes('dryRun') && !r.url.includes('selfsubjectaccessreviews'),
      );
    assert.deepEqual(
      writes.map((r) => `${r.method} ${r.url}`),
      [],
      'nothing written',
    );
    const optIn = { apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] };
    await sa.setRules([...(role.rules ?? []), optIn], { attributes: proxyGet, allowed: true });
    const rolled = await run({ manifests: withPort('registry.local/db:v7'), analysis, soak: '0s' });
    assert.equal(rolled.outcome.result, 'succeeded', `${rolled.outcome.failure}\n${rolled.logs.join('\n')}`);
    assert.equal(
      proxy.seen.filter((r) =>
        /\/pods\/db-\d:8080\/proxy\/healthz$/.test(new URL(r.url, 'https://x').pathname),
      ).length,
      3,
    );
    await sa.setRules(undefined, { attributes: proxyGet, allowed: false });
  });
});
