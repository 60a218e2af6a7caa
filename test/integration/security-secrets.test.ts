// Secrets stay secret (issue 6, item 5): the bundled action, given the kubeconfig as the
// `kubeconfig` input with a bearer token AND a client certificate and key, with debug logging
// on, never prints a credential except in its own `::add-mask::` commands (which come before
// any other line, so the runner masks everything after), nor puts one in the outputs, the job
// summary or the pull request comment, and leaves no kubeconfig file behind. Checked on a
// rollout that succeeds and one that fails (crashloop, rolled back).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { pkiDir } from '../cluster/control-plane/state.ts';
import {
  adminKubeConfig,
  freshNamespace,
  statefulSet,
  type TestNamespace,
  waitFor,
} from '../cluster/harness.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { githubEnv, inputEnv, mergedPull, pushEvent, startBundle } from '../support/run/bundle.ts';
import { manifestFile } from '../support/run/in-process.ts';

const sha = 'feedfacefeedfacefeedfacefeedfacefeedface';

/** A client certificate for a cluster admin, signed by the local cluster's CA; PEM strings. */
function mintClientCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'client-cert-'));
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    run(['genrsa', '-out', 'client.key', '2048']);
    run([
      'req',
      '-new',
      '-key',
      'client.key',
      '-subj',
      '/O=system:masters/CN=secrets-test',
      '-out',
      'client.csr',
    ]);
    run([
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      join(pkiDir, 'ca.crt'),
      '-CAkey',
      join(pkiDir, 'ca.key'),
      '-CAcreateserial',
      '-CAserial',
      join(dir, 'ca.srl'),
      '-days',
      '1',
      '-out',
      'client.crt',
    ]);
    return {
      cert: readFileSync(join(dir, 'client.crt'), 'utf8'),
      key: readFileSync(join(dir, 'client.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('secrets with debug logging on', () => {
  let ns: TestNamespace;
  let fake: FakeGitHub;
  let kubeconfig: string;
  let secrets: string[];
  before(async () => {
    ns = await freshNamespace('secrets');
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: statefulSet({ name: 'db', replicas: 3 }),
    });
    await waitFor(
      async () =>
        (await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name })).status?.readyReplicas ===
        3,
      60_000,
      'db to be Ready',
    );
    fake = await startFakeGitHub({ token: 'ghs_secretgithubtoken0123456789abcdef' });
    fake.commitPulls.set(sha, [mergedPull(77, sha)]);
    const admin = await adminKubeConfig();
    const token = admin.getCurrentUser()?.token ?? '';
    const client = mintClientCertificate();
    const keyData = Buffer.from(client.key).toString('base64');
    kubeconfig = dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'local',
          cluster: {
            server: admin.getCurrentCluster()?.server,
            'certificate-authority-data': admin.getCurrentCluster()?.caData,
          },
        },
      ],
      users: [
        {
          name: 'ci',
          user: {
            token,
            'client-certificate-data': Buffer.from(client.cert).toString('base64'),
            'client-key-data': keyData,
          },
        },
      ],
      contexts: [{ name: 'ci', context: { cluster: 'local', user: 'ci', namespace: ns.name } }],
      'current-context': 'ci',
    });
    const keyLines = client.key.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('-----'));
    secrets = [token, fake.token, keyData, ...keyLines];
    assert.ok(token.length > 10 && keyLines.length > 10);
  });
  after(async () => {
    await fake.close();
    await ns.cleanup();
  });

  const cases: [string, string, string, number][] = [
    ['a rollout that succeeds', 'registry.local/db:v2', 'succeeded', 0],
    ['a rollout that fails (crashloop, rolled back)', 'registry.local/db:v3-crashloop', 'rolled-back', 1],
  ];
  for (const [what, image, result, code] of cases) {
    it(`prints no credential unmasked, in outputs, summary or comment, and leaves no kubeconfig file, on ${what}`, async () => {
      const run = startBundle({
        ...inputEnv(
          {
            kubeconfig,
            manifests: manifestFile([canaryManifest({ image, replicas: 3 })]),
            soak: '1s',
            'stage-timeout': '1m',
          },
          fake.token,
        ),
        ...githubEnv(fake.url, 'push', pushEvent(sha), { GITHUB_SHA: sha }),
        RUNNER_DEBUG: '1',
        ACTIONS_STEP_DEBUG: 'true',
      });
      const exit = await run.exited;
      const stdout = run.stdout();
      const lines = stdout.split('\n');
      assert.equal(exit.code, code, stdout + run.stderr());
      assert.equal(run.outputs().get('result'), result);
      assert.ok(
        lines.some((l) => l.startsWith('::debug::')),
        'debug logging was on',
      );
      const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
      for (const secret of secrets) {
        const masked = lines.indexOf(`::add-mask::${secret}`);
        assert.ok(
          masked >= 0 && masked < firstOther,
          `${secret.slice(0, 6)}… registered before any other line`,
        );
        const leaks = lines.filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'));
        assert.deepEqual(leaks, [], `${secret.slice(0, 6)}… printed`);
        assert.ok(!run.stderr().includes(secret), `${secret.slice(0, 6)}… on stderr`);
        assert.ok(![...run.outputs().values()].some((v) => v.includes(secret)), 'in the outputs');
        assert.ok(!run.summary().includes(secret), 'in the job summary');
        for (const comment of fake.comments) assert.ok(!comment.body.includes(secret), 'in the PR comment');
        for (const request of fake.requests) assert.ok(!JSON.stringify(request.body ?? '').includes(secret));
      }
      assert.ok(run.summary().length > 0, 'a job summary was written');
      assert.ok(
        fake.comments.some((c) => c.issue === 77),
        'the pull request got its comment',
      );
      // Nothing but the runner's own files in the step's temp dir (also the process's TMPDIR).
      assert.deepEqual(readdirSync(run.dir).sort(), ['output', 'summary.md']);
    });
  }
});
