// The plan's least privilege (issue 16): a ServiceAccount bound to exactly the Role in
// examples/rbac-plan.yaml (read access plus dry-run writes) plans an image change with a
// Service beside it, a new StatefulSet and a forbidden change; every request it made is
// recorded through a proxy, and the Role grants exactly what they needed. Nothing changes in
// the cluster. A dry-run needs the same verbs as the real write: without create, planning a new
// StatefulSet is refused by RBAC, not by the dry-run. With the example's ValidatingAdmissionPolicy
// the identity can only dry-run: the plan still works, a real create is refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  type KubeConfig,
  type V1Role,
  type V1RoleBinding,
  type V1Service,
  type V1StatefulSet,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { repoRoot } from '../cluster/control-plane/state.ts';
import { adminKubeConfig, freshNamespace, type TestNamespace, waitFor } from '../cluster/harness.ts';
import type { FaultProxy } from '../support/faults/proxy.ts';
import { canaryManifest, untouched } from '../support/manifests.ts';
import { manifestFile, runAction, runEngine } from '../support/run/in-process.ts';
import { type BoundServiceAccount, bindServiceAccount, permissionsOf } from '../support/service-account.ts';
import { forbiddenSpecChange } from '../support/versions.ts';

const documents = loadAll(readFileSync(join(repoRoot, 'examples/rbac-plan.yaml'), 'utf8')) as {
  kind: string;
}[];
const role = documents.find((d) => d.kind === 'Role') as V1Role;
const binding = documents.find((d) => d.kind === 'RoleBinding') as V1RoleBinding;
const policy = documents.find((d) => d.kind === 'ValidatingAdmissionPolicy') as V1ValidatingAdmissionPolicy;
const policyBinding = documents.find(
  (d) => d.kind === 'ValidatingAdmissionPolicyBinding',
) as V1ValidatingAdmissionPolicyBinding;

const service: V1Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'db' },
  spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'db', port: 5432 }] },
};
const db = (image: string, name = 'db'): V1StatefulSet => canaryManifest({ name, image, replicas: 3 });

const rolePermissions = (r: V1Role): string[] =>
  (r.rules ?? []).flatMap((rule) =>
    (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((res) => rule.verbs.map((verb) => `${group}/${res} ${verb}`)),
    ),
  );

describe('a service account bound to exactly the Role in examples/rbac-plan.yaml', () => {
  let ns: TestNamespace;
  let sa: BoundServiceAccount;
  let kubeConfig: KubeConfig;
  let proxy: FaultProxy;
  before(async () => {
    ns = await freshNamespace('rbac-plan');
    const created = await runAction(ns, { manifests: manifestFile([service, db('registry.local/db:v1')]) });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
    sa = await bindServiceAccount(ns, 'statefulset-canary-plan', role, binding);
    ({ kubeConfig, proxy } = sa);
  });
  after(async () => {
    await sa?.close();
    await ns?.cleanup();
  });

  const plan = (objects: unknown[]) =>
    runEngine({
      kubeConfig,
      namespace: ns.name,
      inputs: { command: 'plan', manifests: manifestFile(objects) },
    });

  it('plans an image change, a new StatefulSet and a forbidden change, changing nothing', async () => {
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    const before = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    const change = await plan([service, db('registry.local/db:v2')]);
    assert.equal(change.outcome.failure, undefined, change.logs.join('\n'));
    assert.match(change.outcome.text ?? '', /stage 1: partition 2, restarts ordinal 2/);
    assert.match(change.outcome.text ?? '', /Service .*\/db: unchanged/);
    const fresh = await plan([db('registry.local/db:v1', 'db2')]);
    assert.equal(fresh.outcome.failure, undefined, fresh.logs.join('\n'));
    assert.match(fresh.outcome.text ?? '', /db2: new, created with 3 replicas/);
    const forbidden = db('registry.local/db:v2');
    forbidden.spec = { ...forbidden.spec!, serviceName: 'other' };
    const refused = await plan([forbidden]);
    assert.match(refused.outcome.failure ?? '', forbiddenSpecChange);
    const after = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.deepEqual(untouched(after), untouched(before), 'nothing changed');
    await assert.rejects(apps.readNamespacedStatefulSet({ name: 'db2', namespace: ns.name }));
    const used = new Set(proxy.seen.flatMap(permissionsOf));
    assert.deepEqual([...used].sort(), rolePermissions(role).sort(), 'the Role grants exactly what was used');
    assert.ok(
      proxy.seen.every(
        (r) => r.method === 'GET' || new URL(r.url, 'https://x').searchParams.get('dryRun') === 'All',
      ),
      'every write was a dry-run',
    );
  });

  it("with the example's ValidatingAdmissionPolicy the identity only dry-runs: the plan works, a real apply is refused", async () => {
    const admission = (await adminKubeConfig()).makeApiClient(AdmissionregistrationV1Api);
    // Cluster-wide objects, as in the example (its match condition too), named for this test.
    const name = `${policy.metadata?.name}-${ns.name}`;
    await admission.createValidatingAdmissionPolicy({ body: { ...policy, metadata: { name } } });
    await admission.createValidatingAdmissionPolicyBinding({
      body: { ...policyBinding, metadata: { name }, spec: { ...policyBinding.spec, policyName: name } },
    });
    try {
      const apps = kubeConfig.makeApiClient(AppsV1Api);
      let last = 'the write succeeded';
      const refusedForReal = async () => {
        try {
          // RBAC allows it (create), the policy does not: it is not a dry-run.
          await apps.createNamespacedStatefulSet({
            namespace: ns.name,
            body: db('registry.local/db:v1', 'db9'),
          });
          return false;
        } catch (error) {
          const text = String((error as { body?: unknown }).body ?? error);
          last = text;
          return /may only read and dry-run/.test(text);
        }
      };
      await waitFor(refusedForReal, 10_000, 'the policy to refuse a real write of the plan identity').catch(
        (error: Error) => assert.fail(`${error.message}: ${last}`),
      );
      const change = await plan([service, db('registry.local/db:v3')]);
      assert.equal(change.outcome.failure, undefined, change.logs.join('\n'));
      assert.match(change.outcome.text ?? '', /registry\.local\/db:v1 -> registry\.local\/db:v3/);
    } finally {
      await admission.deleteValidatingAdmissionPolicyBinding({ name });
      await admission.deleteValidatingAdmissionPolicy({ name });
    }
  });

  it('a dry-run needs the real verb: without create, a new StatefulSet cannot be planned', async () => {
    const rules = (role.rules ?? []).map((r) =>
      r.resources?.includes('statefulsets') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r,
    );
    await sa.setRules(rules, {
      attributes: { verb: 'create', group: 'apps', resource: 'statefulsets' },
      allowed: false,
    });
    const fresh = await plan([db('registry.local/db:v1', 'db3')]).catch((error: Error) => error);
    const text = fresh instanceof Error ? fresh.message : `${fresh.outcome.failure}`;
    assert.match(text, /403|forbidden/i);
    assert.match(text, /create/);
  });
});
