// A plan on a pull request from a fork (issue 16, item 3), run as the runner runs the bundled
// action: no kubeconfig (GitHub passes forks no secrets), a read-only token. The step warns that
// the plan cannot run and why, says so in the job summary, sets result skipped and succeeds,
// without a request to the cluster or to GitHub. A same-repository pull request without any
// kubeconfig (Dependabot's) is skipped the same way; a broken kubeconfig still fails the step.
// With a kubeconfig, the bundle writes the plan to the job summary and the plan comment.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { githubEnv, inputEnv, runBundle } from '../support/run/bundle.ts';
import { manifestFile } from '../support/run/in-process.ts';

const pullRequest = (head: string | null) => ({
  action: 'synchronize',
  number: 31,
  pull_request: {
    number: 31,
    head: {
      sha: 'feedfacefeedfacefeedfacefeedfacefeedface',
      repo: head === null ? null : { full_name: head },
    },
    base: { repo: { full_name: 'acme/shop' } },
  },
});

describe('command: plan on a pull request that has no secrets', () => {
  let fake: FakeGitHub;
  // An empty HOME: no ~/.kube/config to fall back on, as on a GitHub-hosted runner.
  const home = mkdtempSync(join(tmpdir(), 'sts-canary-home-'));
  before(async () => {
    fake = await startFakeGitHub();
  });
  after(async () => {
    await fake?.close();
  });

  const plan = (head: string | null, kubeconfig = '') =>
    runBundle({
      HOME: home,
      ...inputEnv(
        {
          command: 'plan',
          manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2' })]),
          kubeconfig,
        },
        fake.token,
      ),
      ...githubEnv(fake.url, 'pull_request', pullRequest(head)),
    });

  it('from a fork: says the plan cannot run and why, result skipped, the check passes', async () => {
    const run = await plan('mallory/shop');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.get('result'), 'skipped');
    assert.match(
      run.stdout,
      /::warning::The plan cannot run: this pull request comes from the fork mallory\/shop, and GitHub gives pull_request runs from forks no secrets/,
    );
    assert.match(
      run.summary,
      /### ⏭️ Plan not run\n\nThe plan cannot run: this pull request comes from the fork mallory\/shop/,
    );
    assert.match(run.summary, /The check does not fail for this\./);
    assert.equal(fake.requests.length, 0, 'no request to GitHub');
  });

  it('from a deleted fork: the same', async () => {
    const run = await plan(null);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.get('result'), 'skipped');
    assert.match(run.stdout, /comes from the fork \(a deleted fork\)/);
  });

  it('from this repository without any kubeconfig (Dependabot): skipped, saying where the secret goes', async () => {
    const run = await plan('acme/shop');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.get('result'), 'skipped');
    assert.match(
      run.stdout,
      /::warning::The plan cannot run: the kubeconfig input is empty and no other kubeconfig was found/,
    );
    assert.match(run.stdout, /Dependabot pull requests get only Dependabot secrets/);
  });

  it('from this repository with a broken kubeconfig: the step fails, as a misconfiguration should', async () => {
    const run = await plan('acme/shop', 'apiVersion: v1\nkind: Config\nclusters: []\n');
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.outputs.get('result'), 'failed');
  });
});

describe('command: plan on a pull request of this repository, as the runner runs the bundle', () => {
  let ns: TestNamespace;
  let fake: FakeGitHub;
  before(async () => {
    ns = await freshNamespace('plan-bundle');
    fake = await startFakeGitHub();
  });
  after(async () => {
    await fake?.close();
    await ns?.cleanup();
  });

  it('writes the plan to the job summary and the plan comment, result no-change, exit code 0', async () => {
    const run = await runBundle({
      ...inputEnv(
        {
          command: 'plan',
          manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v1', replicas: 3 })]),
          kubeconfig: readFileSync(ns.kubeconfigPath, 'utf8'),
        },
        fake.token,
      ),
      ...githubEnv(fake.url, 'pull_request', pullRequest('acme/shop')),
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs.get('result'), 'no-change');
    const heading = `### Plan for StatefulSet \`${ns.name}/db\`: 🆕 new StatefulSet, created without canary stages`;
    assert.ok(run.summary.includes(heading), run.summary);
    assert.match(run.summary, /Planned for commit `feedfacefeed`/);
    const [comment, ...more] = fake.comments;
    assert.equal(more.length, 0);
    assert.equal(comment?.issue, 31);
    assert.ok(
      comment?.body.startsWith(`<!-- statefulset-canary plan: local/${ns.name}/db -->\n${heading}`),
      comment?.body,
    );
    assert.deepEqual(fake.violations, []);
  });
});
