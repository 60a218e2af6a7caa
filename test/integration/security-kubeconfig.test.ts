// Hostile and broken kubeconfigs (issue 6, item 4), through the bundled action as a runner runs
// it: content that does not parse, a context that does not exist, a server that is not there,
// rejected credentials, a certificate the kubeconfig does not trust. Each gives one clear error
// that says what is wrong, without printing the credentials, and the StatefulSet is left exactly
// as it was (same resourceVersion). That none of these is retried (so each fails at once) is
// tested in test/unit/kube-retry.test.ts ("which failures are retried").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import {
  adminKubeConfig,
  freshNamespace,
  statefulSet,
  type TestNamespace,
  waitFor,
} from '../cluster/harness.ts';
import { startFaultProxy } from '../support/faults/proxy.ts';
import { untouched } from '../support/manifests.ts';
import { inputEnv, startBundle } from '../support/run/bundle.ts';
import { manifestFile } from '../support/run/in-process.ts';

const fakeToken = 'hostile-token-6f1c0ffee6f1c0ffee6f1c0ffee';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A kubeconfig document with one context `local` for `server`, user token `token`. */
function kubeconfigYaml(server: string, token: string, caData?: string, current = 'local'): string {
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'c', cluster: { server, ...(caData ? { 'certificate-authority-data': caData } : {}) } },
    ],
    users: [{ name: 'u', user: { token } }],
    contexts: [{ name: 'local', context: { cluster: 'c', user: 'u' } }],
    'current-context': current,
  });
}

interface Setting {
  readonly server: string;
  readonly ca: string;
  readonly good: string;
  readonly proxyUrl: string;
  readonly port: number;
}

const cases: [string, (e: Setting) => Record<string, string>, RegExp | ((e: Setting) => RegExp)][] = [
  [
    'YAML that does not parse (the token on the broken line)',
    () => ({ kubeconfig: `apiVersion: v1\nusers:\n- name: u\n  user: {token: ${fakeToken}\n` }),
    /`kubeconfig` input is not a valid kubeconfig \(.*line \d+, column \d+\)/,
  ],
  [
    'binary garbage (an environment variable cannot hold NUL)',
    () => ({ kubeconfig: '\u0001\u0002\u0007PK\u0003\u0004\u00ff\u00fe' }),
    /Input kubeconfig: .*not kubeconfig content \(value not shown|`kubeconfig` input is not a valid kubeconfig/,
  ],
  [
    'a YAML list',
    () => ({ kubeconfig: `- ${fakeToken}\n- b\n` }),
    /not a valid kubeconfig \(not a YAML mapping\)|no contexts or no clusters/,
  ],
  [
    'a user without a name',
    () => ({
      kubeconfig: `apiVersion: v1\nusers:\n- user: {token: ${fakeToken}}\nclusters: []\ncontexts: []\n`,
    }),
    /not a valid kubeconfig \(users\[0\]\.name is missing\)|no contexts or no clusters/,
  ],
  [
    'a context input that does not exist',
    (e) => ({ kubeconfig: e.good, context: 'production' }),
    /Context "production" is not in the kubeconfig.*Available contexts: local/,
  ],
  [
    'a current-context that is not defined',
    (e) => ({ kubeconfig: kubeconfigYaml(e.server, fakeToken, e.ca, 'staging') }),
    /has no current context \("staging" is not defined\).*Available contexts: local/,
  ],
  [
    'a server that is not there (closed port on 127.0.0.1)',
    (e) => ({ kubeconfig: kubeconfigYaml(`https://127.0.0.1:${e.port}`, fakeToken, e.ca) }),
    (e) =>
      new RegExp(
        `cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${e.port} \\(ECONNREFUSED`,
      ),
  ],
  [
    'a token the API server rejects',
    (e) => ({ kubeconfig: kubeconfigYaml(e.server, fakeToken, e.ca) }),
    /\(401\).*credentials in the kubeconfig were rejected/,
  ],
  [
    'a server certificate the kubeconfig does not trust',
    (e) => ({ kubeconfig: kubeconfigYaml(e.proxyUrl, fakeToken, e.ca) }),
    /presented a certificate this runner does not trust/,
  ],
];

describe('a hostile or broken kubeconfig', () => {
  let ns: TestNamespace;
  let apps: AppsV1Api;
  let manifests: string;
  let env: Setting;
  let closeProxy: () => Promise<void>;
  before(async () => {
    ns = await freshNamespace('kubeconfig');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: statefulSet({ name: 'db', replicas: 2 }),
    });
    await waitFor(async () => (await read()).status?.readyReplicas === 2, 60_000, 'db to be Ready');
    const changed: V1StatefulSet = statefulSet({ name: 'db', replicas: 2, image: 'registry.local/db:v2' });
    changed.metadata = { ...changed.metadata, namespace: ns.name };
    manifests = manifestFile([changed]);
    const admin = await adminKubeConfig();
    const server = admin.getCurrentCluster()?.server ?? '';
    const ca = admin.getCurrentCluster()?.caData ?? '';
    const good = readFileSync(ns.kubeconfigPath, 'utf8');
    // A server whose certificate is signed by nobody the kubeconfig trusts (the proxy's own).
    const proxy = await startFaultProxy(admin);
    closeProxy = () => proxy.close();
    const port = await closedPort();
    env = { server, ca, good, proxyUrl: proxy.url, port };
  });
  after(async () => {
    await closeProxy();
    await ns.cleanup();
  });

  const read = () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });

  for (const [what, inputsOf, expectedOf] of cases) {
    it(`refuses ${what} with one clear error, printing no credential and changing nothing`, async () => {
      const inputs = inputsOf(env);
      const expected = typeof expectedOf === 'function' ? expectedOf(env) : expectedOf;
      const before = untouched(await read());
      const run = startBundle(inputEnv({ manifests, 'github-token': '', ...inputs }, ''));
      const exit = await run.exited;
      const out = run.stdout() + run.stderr();
      assert.equal(exit.code, 1, `exit code\n${out}`);
      const errors = out.split('\n').filter((l) => l.startsWith('::error'));
      assert.equal(errors.length, 1, `one error\n${out}`);
      assert.match(errors[0] ?? '', expected);
      const unmasked = out.split('\n').filter((l) => l.includes(fakeToken) && !l.startsWith('::add-mask::'));
      assert.deepEqual(unmasked, [], 'the token was printed');
      assert.deepEqual(untouched(await read()), before, 'the StatefulSet changed');
      assert.equal(run.outputs().get('result'), 'failed');
    });
  }
});
