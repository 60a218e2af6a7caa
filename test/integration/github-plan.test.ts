// The plan comment on the pull request (issue 16), on the real cluster through the composition
// root and the fake GitHub that checks every request against GitHub's OpenAPI description: an
// image change, a forbidden change (refused, shown, step failed as the merge would), the comment
// edited in place by the next push, and the rollout comment of the merge linking to it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { toHtml } from '../support/rendered.ts';
import { mergedPull, pushEvent } from '../support/run/bundle.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';
import { runWithGitHub } from '../support/run/with-github.ts';
import { forbiddenSpecChange } from '../support/versions.ts';

const head = 'feedfacefeedfacefeedfacefeedfacefeedface';
const merge = '0123456789abcdef0123456789abcdef01234567';
const fast = { soak: '1s', 'stage-timeout': '2m', 'on-failure': 'halt' };
const prEvent = (number: number, sha = head) => ({
  action: 'synchronize',
  number,
  pull_request: {
    number,
    head: { sha, repo: { full_name: 'acme/shop' } },
    base: { repo: { full_name: 'acme/shop' } },
  },
});
describe('the plan comment on a pull request, on the real cluster', () => {
  let ns: TestNamespace;
  let fake: FakeGitHub;
  before(async () => {
    ns = await freshNamespace('gh-plan');
    const created = await runAction(ns, {
      manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v1', replicas: 5 })]),
      ...fast,
    });
    assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
    fake = await startFakeGitHub();
  });
  after(async () => {
    await fake?.close();
    await ns?.cleanup();
  });

  const planComments = (issue: number) =>
    fake.comments.filter((c) => c.issue === issue && c.body.includes('<!-- statefulset-canary plan: '));

  it('shows an image change: images, the template diff, the stages and the pods they restart', async (t) => {
    const run = await runWithGitHub(ns, fake, {
      event: 'pull_request',
      payload: prEvent(21),
      inputs: {
        command: 'plan',
        manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 5 })]),
        ...fast,
      },
    });
    assert.equal(run.outcome.failure, undefined, run.log.lines.join('\n'));
    const [comment, ...more] = planComments(21);
    assert.equal(more.length, 0);
    const body = comment?.body ?? '';
    t.diagnostic(`\n${body}`);
    assert.ok(body.startsWith(`<!-- statefulset-canary plan: local/${ns.name}/db -->\n`), body);
    assert.match(
      body,
      /### Plan for StatefulSet `[^`]+\/db`: 📋 staged rollout: 5 of 5 pods restart in 3 stages/,
    );
    assert.match(body, /\| `app` \| `registry\.local\/db:v1` \| `registry\.local\/db:v2` \|/);
    assert.match(
      body,
      /```diff\n--- live\n\+\+\+ manifests\n@@ [^\n]+\n(.*\n)*-\s+- image: registry\.local\/db:v1\n\+\s+- image: registry\.local\/db:v2\n/,
    );
    assert.match(body, /\| 1 \| 4 \| `db-4` \| 1\/5 \|/);
    assert.match(body, /\| 3 \| 0 \| `db-1`, `db-0` \| 5\/5 \|/);
    assert.match(body, /\*\*Soak:\*\* 1s per stage/);
    assert.match(body, /Planned for commit `feedfacefeed`/);
    assert.match(toHtml(body), /<pre><code class="language-diff">/);
    assert.deepEqual(fake.violations, []);
    assert.deepEqual(run.log.warnings, []);
  });

  it('shows a forbidden change as refused, edits the same comment, and fails the step', async (t) => {
    const forbidden = canaryManifest({ image: 'registry.local/db:v2', replicas: 5 });
    forbidden.spec = { ...forbidden.spec!, serviceName: 'other' };
    const run = await runWithGitHub(ns, fake, {
      event: 'pull_request',
      payload: prEvent(21, 'badc0ffebadc0ffebadc0ffebadc0ffebadc0ffe'),
      inputs: { command: 'plan', manifests: manifestFile([forbidden]), ...fast },
    });
    assert.match(run.outcome.failure ?? '', forbiddenSpecChange);
    const [comment, ...more] = planComments(21);
    assert.equal(more.length, 0, 'the same comment, edited');
    const body = comment?.body ?? '';
    t.diagnostic(`\n${body}`);
    assert.match(body, /### ❌ Plan for StatefulSet `[^`]+\/db`: the change would be refused/);
    assert.match(
      body,
      /> \[!CAUTION\]\n> \*\*The API server refuses these manifests:\*\* a rollout after the merge would fail/,
    );
    assert.match(body, new RegExp(`\\n> .*(${forbiddenSpecChange.source})`));
    assert.match(toHtml(body), /<blockquote>\n<p>\[!CAUTION\]/);
    assert.match(body, /Planned for commit `badc0ffebadc`/);
    assert.equal(run.calls.filter((c) => /^POST .*\/comments$/.test(c)).length, 0);
    assert.deepEqual(fake.violations, []);
  });

  it('links the rollout comment of the merge to the plan comment', async () => {
    await runWithGitHub(ns, fake, {
      event: 'pull_request',
      payload: prEvent(21),
      inputs: {
        command: 'plan',
        manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 5 })]),
        ...fast,
      },
    });
    const plan = planComments(21)[0];
    assert.ok(plan);
    fake.commitPulls.set(merge, [mergedPull(21, merge)]);
    const run = await runWithGitHub(ns, fake, {
      event: 'push',
      payload: pushEvent(merge),
      inputs: {
        manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 5 })]),
        ...fast,
      },
      env: { GITHUB_SHA: merge },
    });
    assert.equal(run.outcome.result, 'succeeded', run.log.lines.join('\n'));
    const rollout = fake.comments.find(
      (c) => c.issue === 21 && c.body.startsWith(`<!-- statefulset-canary: local/${ns.name}/db -->`),
    );
    assert.ok(rollout, 'the rollout comment');
    assert.ok(
      rollout.body.includes(`[Plan of this change](http://fake/pull/21#issuecomment-${plan.id})`),
      rollout.body,
    );
    // One reading of the comments found both: no request more than a rollout without a plan.
    assert.equal(run.calls.filter((c) => /^GET .*\/issues\/21\/comments$/.test(c)).length, 1);
    assert.deepEqual(fake.violations, []);
  });
  it('says so in the plan of a StatefulSet that a later push took out of the manifests, once', async () => {
    const plan = (objects: unknown[]) =>
      runWithGitHub(ns, fake, {
        event: 'pull_request',
        payload: prEvent(22),
        inputs: { command: 'plan', manifests: manifestFile(objects), ...fast },
      });
    const both = await plan([
      canaryManifest({ image: 'registry.local/db:v3', replicas: 5 }),
      canaryManifest({ name: 'cache', image: 'registry.local/cache:v1', replicas: 2 }),
    ]);
    assert.equal(both.outcome.failure, undefined, both.log.lines.join('\n'));
    assert.equal(planComments(22).length, 2);
    const cache = planComments(22).find((c) => c.body.includes(`plan: local/${ns.name}/cache -->`));
    assert.match(cache?.body ?? '', /🆕 new StatefulSet, created without canary stages/);
    const one = await plan([canaryManifest({ image: 'registry.local/db:v3', replicas: 5 })]);
    assert.equal(one.outcome.failure, undefined);
    assert.equal(planComments(22).length, 2, 'no comment more');
    const gone = planComments(22).find((c) => c.id === cache?.id);
    assert.match(gone?.body ?? '', /### ⚪ Plan: `[^`]+\/cache` not in the manifests/);
    assert.match(
      gone?.body ?? '',
      /is no longer in the manifests of this pull request: a merge does not roll it out/,
    );
    const again = await plan([canaryManifest({ image: 'registry.local/db:v3', replicas: 5 })]);
    assert.equal(again.calls.filter((c) => /^PATCH /.test(c)).length, 1, 'the old plan is not edited again');
    assert.deepEqual(fake.violations, []);
  });
});
