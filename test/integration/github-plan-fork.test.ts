// A plan on a pull request from a fork (issue 16, item 3), run as the runner runs the bundled
// action: no kubeconfig (GitHub passes forks no secrets), a read-only token. The step warns that
// the plan cannot run and why, says so in the job summary, sets result skipped and succeeds,
// without a request to the cluster or to GitHub. A same-repository pull request without any
// kubeconfig (Dependabot's) is skipped the same way; a broken kubeconfig still fails the step.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { manifestFile } from '../support/run-action.ts';
import { githubEnv, inputEnv, runBundle } from '../support/runner-env.ts';

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
