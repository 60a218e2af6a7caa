// Loading kubeconfigs, listing their secrets, and the errors users see when one is wrong.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { createCluster } from '../../src/adapters/kubernetes/cluster.ts';
import { KubeError, toKubeError } from '../../src/adapters/kubernetes/errors.ts';
import { loadKubeConfig } from '../../src/adapters/kubernetes/kubeconfig.ts';

const token = 'tok-3f9a8b7c6d5e4f30a1b2c3d4e5f6a7b8';
const keyPem =
  '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKEYLINEONE\nKEYLINETWOxyz\n-----END EC PRIVATE KEY-----\n';
const keyData = Buffer.from(keyPem).toString('base64');
const certData = Buffer.from(
  '-----BEGIN CERTIFICATE-----\nCERTLINEONEabc\n-----END CERTIFICATE-----\n',
).toString('base64');

function kubeconfig(server = 'https://127.0.0.1:6443'): string {
  return `apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster: { server: "${server}" }
- name: staging
  cluster: { server: "https://staging.example:6443" }
users:
- name: ci
  user: { token: ${token} }
- name: admin
  user: { client-key-data: ${keyData}, client-certificate-data: ${certData} }
- name: basic
  user: { username: alice, password: hunter2-hunter2 }
contexts:
- name: prod
  context: { cluster: prod, user: ci, namespace: shop }
- name: staging
  context: { cluster: staging, user: admin }
`;
}

describe('loading a kubeconfig', () => {
  it('parses content in memory and takes the current context and its namespace', () => {
    const loaded = loadKubeConfig({ content: kubeconfig() });
    assert.equal(loaded.contextName, 'prod');
    assert.equal(loaded.defaultNamespace, 'shop');
    assert.equal(loaded.kubeConfig.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  });

  it('switches to the context asked for, whose namespace defaults to "default"', () => {
    const loaded = loadKubeConfig({ content: kubeconfig(), context: 'staging' });
    assert.equal(loaded.contextName, 'staging');
    assert.equal(loaded.defaultNamespace, 'default');
    assert.equal(loaded.kubeConfig.getCurrentCluster()?.server, 'https://staging.example:6443');
  });

  it('refuses a context that does not exist, listing the ones that do', () => {
    assert.throws(
      () => loadKubeConfig({ content: kubeconfig(), context: 'qa' }),
      /Context "qa" is not in the kubeconfig \(the `kubeconfig` input\)\. Available contexts: prod, staging\./,
    );
  });

  it('lists every token, password, key and certificate, raw and as decoded lines', () => {
    const { secrets } = loadKubeConfig({ content: kubeconfig() });
    for (const secret of [
      token,
      'hunter2-hunter2',
      keyData,
      certData,
      'MHcCAQEEIKEYLINEONE',
      'KEYLINETWOxyz',
      'CERTLINEONEabc',
    ]) {
      assert.ok(secrets.includes(secret), `${secret} is listed`);
    }
    assert.ok(!secrets.some((s) => s.startsWith('-----')), 'PEM armour lines are not secrets');
    assert.ok(!secrets.includes('alice'));
  });

  const broken: [string, string][] = [
    ['unparseable YAML', `users:\n- name: ci\n  user: { token: ${token}\n  bad: [`],
    ['a YAML scalar', `just-a-token-${token}`],
    ['a cluster without a server', `clusters:\n- name: a\n  cluster: { token: ${token} }\n`],
    [
      'no contexts',
      `clusters:\n- name: a\n  cluster: { server: "https://x" }\nusers:\n- name: u\n  user: { token: ${token} }\n`,
    ],
  ];
  for (const [name, content] of broken) {
    it(`rejects ${name} with a clear error that does not echo the content`, () => {
      assert.throws(
        () => loadKubeConfig({ content }),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, /The `kubeconfig` input/);
          assert.ok(!error.message.includes(token), error.message);
          assert.ok(!error.message.includes('tok-'), error.message);
          return true;
        },
      );
    });
  }
});

describe('where the kubeconfig comes from without content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs loadKubeConfig in a child process with the given environment (HOME and KUBECONFIG). */
  function loadWith(env: Record<string, string>): { status: number | null; out: string } {
    const script = `import { loadKubeConfig } from ${JSON.stringify(join(process.cwd(), 'src/adapters/kubernetes/kubeconfig.ts'))};
try { const k = loadKubeConfig({}); console.log(k.contextName + ' ' + k.kubeConfig.getCurrentCluster().server); }
catch (e) { console.log(e.message); process.exit(3); }`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    });
    return { status: result.status, out: result.stdout.trim() + result.stderr.trim() };
  }

  it('prefers KUBECONFIG over ~/.kube/config', () => {
    const home = join(dir, 'home');
    spawnSync('mkdir', ['-p', join(home, '.kube')]);
    writeFileSync(join(home, '.kube', 'config'), kubeconfig('https://home.example:6443'));
    const file = join(dir, 'env-config');
    writeFileSync(file, kubeconfig('https://env.example:6443'));
    assert.deepEqual(loadWith({ HOME: home, KUBECONFIG: file }), {
      status: 0,
      out: 'prod https://env.example:6443',
    });
    assert.deepEqual(loadWith({ HOME: home }), { status: 0, out: 'prod https://home.example:6443' });
  });

  it('fails naming every place it looked when there is no kubeconfig at all', () => {
    const { status, out } = loadWith({ HOME: join(dir, 'empty-home') });
    assert.equal(status, 3);
    assert.match(
      out,
      /No kubeconfig found: the `kubeconfig` input is empty, KUBECONFIG is not set, ~\/\.kube\/config/,
    );
  });
});

describe('errors users see', () => {
  it('explains a 403 with the verb, the resource and the documented Role, without the server message losing detail', () => {
    const body = JSON.stringify({
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message:
        'statefulsets.apps "db" is forbidden: User "system:serviceaccount:ci:deployer" cannot patch resource "statefulsets" in API group "apps" in the namespace "shop"',
    });
    const error = toKubeError(new ApiException(403, '', body, {}), {
      verb: 'patch',
      kind: 'StatefulSet',
      namespace: 'shop',
      name: 'db',
    });
    assert.equal(error.status, 403);
    assert.equal(error.reason, 'Forbidden');
    assert.match(
      error.message,
      /^patch StatefulSet shop\/db failed \(403\): statefulsets\.apps "db" is forbidden/,
    );
    assert.match(
      error.message,
      /may not patch StatefulSet in namespace shop: add that verb and resource to its Role/,
    );
    assert.match(
      error.message,
      /docs\/permissions\.md, "Permissions in the cluster \(RBAC\)", has the exact Role/,
    );
  });

  it('names the server and the fix when the kubeconfig points nowhere, without retrying', async () => {
    // A port that was just free and is closed again refuses connections.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    const port = typeof address === 'object' && address ? address.port : 1;
    await new Promise((resolve) => probe.close(resolve));
    const { kubeConfig } = loadKubeConfig({ content: kubeconfig(`https://127.0.0.1:${port}`) });
    const retries: unknown[] = [];
    const cluster = createCluster({ kubeConfig, fieldManager: 'test', onRetry: (e) => retries.push(e) });
    await assert.rejects(cluster.observe({ namespace: 'shop', name: 'db' }), (error: unknown) => {
      assert.ok(error instanceof KubeError);
      assert.equal(error.reason, 'ECONNREFUSED');
      assert.match(
        error.message,
        new RegExp(`cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${port}`),
      );
      assert.match(error.message, /Check that the kubeconfig/);
      assert.ok(!error.message.includes(token));
      return true;
    });
    // Without retrying is the behaviour (a retry would be reported here); how long it took is not.
    assert.deepEqual(retries, []);
  });
});
