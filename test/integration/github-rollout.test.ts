// GitHub reporting of real rollouts on the local control plane, against the fake GitHub server
// that checks every request against GitHub's OpenAPI description: the sticky comment through
// every stage, reruns, push / pull_request / workflow_dispatch events, deployment statuses,
// 403 and 5xx answers, and a hostile termination message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import {
  freshNamespace,
  type TestNamespace,
  terminationMessageAnnotation,
  watchPods,
} from '../cluster/harness.ts';
import type { Comment } from '../support/github/fake-model.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { toHtml } from '../support/rendered.ts';
import { mergedPull, pushEvent } from '../support/run/bundle.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';
import { runWithGitHub } from '../support/run/with-github.ts';

const sha = '0123456789abcdef0123456789abcdef01234567';
const runUrl = 'https://github.com/acme/shop/actions/runs/42/attempts/1';
const fast = { soak: '1s', 'stage-timeout': '2m', 'on-failure': 'halt' };
const prEvent = (number: number) => ({ action: 'synchronize', number, pull_request: { number } });

const count = (calls: readonly string[], pattern: RegExp) => calls.filter((c) => pattern.test(c)).length;
const commentsOn = (fake: FakeGitHub, issue: number): Comment[] =>
  fake.comments.filter((c) => c.issue === issue);

/** A namespace with StatefulSet `db` created (without GitHub) and a fresh fake GitHub. */
async function setUp(prefix: string, replicas: number): Promise<{ ns: TestNamespace; fake: FakeGitHub }> {
  const ns = await freshNamespace(prefix);
  const created = await runAction(ns, {
    manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v1', replicas })]),
    ...fast,
  });
  assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
  return { ns, fake: await startFakeGitHub() };
}

describe('GitHub reporting of a rollout on push, its rerun and its manual rollback', () => {
  let ns: TestNamespace;
  let fake: FakeGitHub;
  let apps: AppsV1Api;
  before(async () => {
    ({ ns, fake } = await setUp('gh-push', 5));
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    fake.commitPulls.set(sha, [
      { ...mergedPull(11, sha), base: { ref: 'release' } },
      mergedPull(12, sha),
      { ...mergedPull(13, sha), merged_at: null },
    ]);
  });
  after(async () => {
    await fake.close();
    await ns.cleanup();
  });

  it('creates one comment on the merged pull request and updates it at each stage transition', async (t) => {
    let podEvents = 0;
    const pods = await watchPods(ns.kubeConfig, ns.name, () => podEvents++);
    const run = await runWithGitHub(ns, fake, {
      event: 'push',
      payload: pushEvent(sha),
      inputs: {
        manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 5 })]),
        'deployment-environment': 'production',
        ...fast,
      },
    });
    pods.stop();
    assert.equal(run.outcome.result, 'succeeded', run.log.lines.join('\n'));
    assert.equal(run.pullRequest, 12);
    assert.equal(count(run.calls, /^GET \/repos\/acme\/shop\/commits\/\w+\/pulls$/), 1);
    assert.equal(count(run.calls, /^POST \/repos\/acme\/shop\/issues\/12\/comments$/), 1);
    const patches = count(run.calls, /^PATCH \/repos\/acme\/shop\/issues\/comments\/\d+$/);
    // One request per transition at most (the first one is the POST), and far fewer than pod events.
    assert.ok(
      patches >= 3 && patches <= run.reports.length - 1,
      `${patches} PATCHes, ${run.reports.length} reports`,
    );
    assert.ok(run.reports.length < podEvents, `${run.reports.length} reports for ${podEvents} pod events`);
    assert.ok(run.reports.length <= 3 * 3 + 3, `${run.reports.length} reports for 3 stages`);
    t.diagnostic(`${run.reports.length} reports, 1 POST, ${patches} PATCHes, ${podEvents} pod events`);

    const [comment, ...others] = fake.comments;
    assert.equal(others.length, 0);
    assert.equal(comment?.issue, 12);
    const body = comment?.body ?? '';
    assert.ok(body.startsWith(`<!-- statefulset-canary: local/${ns.name}/db -->`), body);
    assert.match(body, /✅ StatefulSet `[^`]*\/db`: rollout succeeded/);
    assert.equal(body.match(/\| ✅ passed \|/g)?.length, 3, body);
    assert.match(body, /`registry\.local\/db:v1` \| `registry\.local\/db:v2`/);
    assert.ok(body.includes(`[Workflow run](${runUrl})`), body);

    const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(sts.metadata?.annotations?.['statefulset-canary.io/pull-request'], '12');

    assert.equal(fake.deployments.length, 1);
    // in_progress once while applying, then once per stage (not per update), then success.
    const statuses = fake.deployments[0]?.statuses ?? [];
    assert.deepEqual(
      statuses.map((s) => s.state),
      ['in_progress', 'in_progress', 'in_progress', 'in_progress', 'success'],
    );
    for (const stage of [1, 2, 3])
      assert.match(String(statuses[stage]?.description), new RegExp(`/db: stage ${stage}/3, `));
    for (const status of statuses) assert.equal(status.log_url, runUrl);
    assert.deepEqual(fake.violations, []);
    assert.deepEqual(run.log.warnings, []);
  });

  it('leaves the comment alone on a rerun that changes nothing', async () => {
    const before = fake.comments.map((c) => ({ ...c }));
    const run = await runWithGitHub(ns, fake, {
      event: 'push',
      payload: pushEvent(sha),
      inputs: {
        manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 5 })]),
        ...fast,
      },
    });
    assert.equal(run.outcome.result, 'no-change', run.log.lines.join('\n'));
    assert.equal(count(run.calls, /\/comments/), 0, run.calls.join('\n'));
    assert.equal(count(run.calls, /\/deployments/), 0, run.calls.join('\n'));
    assert.deepEqual(fake.comments, before, 'the record of the rollout that changed something stays');
    assert.deepEqual(fake.violations, []);
  });

  it('updates the same comment, rather than adding one, on a rerun that rolls out again', async () => {
    const before = fake.comments.map((c) => ({ ...c }));
    const run = await runWithGitHub(ns, fake, {
      event: 'push',
      payload: pushEvent(sha),
      inputs: {
        manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v3', replicas: 5 })]),
        ...fast,
      },
    });
    assert.equal(run.outcome.result, 'succeeded', run.log.lines.join('\n'));
    assert.equal(count(run.calls, /^POST .*\/comments$/), 0, run.calls.join('\n'));
    assert.ok(count(run.calls, /^PATCH .*\/comments\/\d+$/) >= 1, run.calls.join('\n'));
    assert.equal(fake.comments.length, 1);
    assert.equal(fake.comments[0]?.id, before[0]?.id);
    assert.match(fake.comments[0]?.body ?? '', /`registry\.local\/db:v3`/);
    assert.deepEqual(fake.violations, []);
  });

  it('reports a workflow_dispatch rollback on the pull request recorded on the StatefulSet', async () => {
    const other = 'fedcba9876543210fedcba9876543210fedcba98';
    const run = await runWithGitHub(ns, fake, {
      event: 'workflow_dispatch',
      payload: { inputs: { statefulset: 'db' }, ref: 'refs/heads/main' },
      env: { GITHUB_SHA: other, GITHUB_RUN_ID: '43' },
      inputs: { command: 'rollback', statefulset: 'db', 'deployment-environment': 'production', ...fast },
    });
    assert.equal(run.outcome.result, 'rolled-back', run.log.lines.join('\n'));
    assert.equal(run.pullRequest, 12);
    assert.equal(count(run.calls, /\/pulls$/), 0, 'no pull request lookup for a dispatch');
    assert.equal(count(run.calls, /^POST .*\/comments$/), 0, run.calls.join('\n'));
    assert.equal(fake.comments.length, 1);
    const body = fake.comments[0]?.body ?? '';
    assert.match(body, /StatefulSet `.*db`: rolled back/);
    assert.match(body, /#### ↩️ Rollback/);
    assert.match(body, /\*\*State:\*\* .*succeeded/i);
    assert.ok(body.includes('actions/runs/43/attempts/1'), body);
    const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(sts.metadata?.annotations?.['statefulset-canary.io/pull-request'], '12');
    assert.match(body, new RegExp(`→ \`${sts.status?.updateRevision ?? '?'}\``));
    // The rollback did what it was asked: its deployment is a success naming the restored revision.
    const restored = sts.status?.updateRevision ?? '?';
    const deployment = fake.deployments.at(-1);
    assert.equal(fake.deployments.length, 2, 'the rollout’s, then the rollback’s');
    assert.equal(deployment?.body.ref, other);
    const payload = (deployment?.body.payload ?? {}) as { kind?: string; revision?: string };
    assert.deepEqual(
      [deployment?.body.description, payload.kind, payload.revision],
      [`statefulset-canary rollback of ${ns.name}/db to ${restored}`, 'rollback', restored],
    );
    assert.equal(deployment?.statuses.at(-1)?.state, 'success');
    assert.match(
      String(deployment?.statuses.at(-1)?.description),
      new RegExp(`/db: rolled back to ${restored} from `),
    );
    assert.deepEqual(fake.violations, []);
  });
});

describe('GitHub reporting of a push that replaced a pending run', () => {
  it('comments on the pull requests of both pushes, found from the commit the StatefulSet recorded', async () => {
    const { ns, fake } = await setUp('gh-replaced', 3);
    const [c1, c2, c3] = ['1', '2', '3'].map((d) => d.repeat(40));
    try {
      fake.commitParents.set(c1 ?? '', []);
      fake.commitParents.set(c2 ?? '', [c1 ?? '']);
      fake.commitParents.set(c3 ?? '', [c2 ?? '']);
      fake.commitPulls.set(c1 ?? '', [mergedPull(71, c1 ?? '')]);
      fake.commitPulls.set(c2 ?? '', [{ ...mergedPull(72, c2 ?? ''), merged_at: '2025-06-01T12:01:00Z' }]);
      fake.commitPulls.set(c3 ?? '', [{ ...mergedPull(73, c3 ?? ''), merged_at: '2025-06-01T12:02:00Z' }]);
      const push = (sha: string, before: string, image: string) =>
        runWithGitHub(ns, fake, {
          event: 'push',
          payload: { ...pushEvent(sha), before },
          env: { GITHUB_SHA: sha },
          inputs: { manifests: manifestFile([canaryManifest({ image, replicas: 3 })]), ...fast },
        });
      const first = await push(c1 ?? '', '0'.repeat(40), 'registry.local/db:v2');
      assert.equal(first.outcome.result, 'succeeded', first.log.lines.join('\n'));
      // The run of c2 was pending and replaced by the run of c3: its change is rolled out now.
      const second = await push(c3 ?? '', c2 ?? '', 'registry.local/db:v3');
      assert.equal(second.outcome.result, 'succeeded', second.log.lines.join('\n'));
      assert.equal(second.pullRequest, 73, 'the StatefulSet records the latest merge');
      assert.ok(second.calls.includes(`GET /repos/acme/shop/compare/${c1}...${c3}`), second.calls.join('\n'));
      assert.deepEqual(
        fake.comments.map((c) => [c.issue, /db:v3/.test(c.body)]),
        [
          [71, false],
          [73, true],
          [72, true],
        ],
      );
      assert.deepEqual(fake.violations, []);
    } finally {
      await fake.close();
      await ns.cleanup();
    }
  });
});

describe('GitHub reporting of a cancelled rollout when GitHub is slow', () => {
  it('ends the deployment with error within the runner’s SIGINT-to-SIGTERM budget', async (t) => {
    const { ns, fake } = await setUp('gh-cancel', 3);
    try {
      const cancel = new AbortController();
      let cancelledAt = 0;
      const run = await runWithGitHub(ns, fake, {
        event: 'pull_request',
        payload: prEvent(15),
        // The action's own retry timing, not the tests' fast one.
        retry: {},
        signal: cancel.signal,
        onReport: (report) => {
          if (cancelledAt === 0 && report.stages[0]?.state === 'soaking') {
            // GitHub now takes a minute to answer; then the workflow is cancelled (SIGINT).
            fake.delay({ ms: 60_000, times: Number.POSITIVE_INFINITY });
            cancelledAt = Date.now();
            cancel.abort();
          }
        },
        inputs: {
          manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 3 })]),
          'deployment-environment': 'production',
          ...fast,
          soak: '10m',
        },
      });
      const took = Date.now() - cancelledAt;
      t.diagnostic(`the run ended ${took} ms after the cancel`);
      assert.equal(run.outcome.result, 'cancelled', run.log.lines.join('\n'));
      assert.ok(took < 7_500, `${took} ms: the runner would have sent SIGTERM`);
      assert.equal(fake.deployments.length, 1);
      assert.equal(fake.deployments[0]?.statuses.at(-1)?.state, 'error');
      assert.match(commentsOn(fake, 15)[0]?.body ?? '', /rollout cancelled/);
      assert.deepEqual(fake.violations, []);
    } finally {
      await fake.close();
      await ns.cleanup();
    }
  });
});

describe('GitHub reporting on other events and GitHub failures', { concurrency: true }, () => {
  it('comments on the pull request of a pull_request event without looking it up', async () => {
    const { ns, fake } = await setUp('gh-pr', 3);
    try {
      const run = await runWithGitHub(ns, fake, {
        event: 'pull_request',
        payload: prEvent(8),
        inputs: {
          manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 3 })]),
          ...fast,
        },
      });
      assert.equal(run.outcome.result, 'succeeded', run.log.lines.join('\n'));
      assert.equal(count(run.calls, /\/pulls$/), 0);
      assert.equal(commentsOn(fake, 8).length, 1);
      assert.equal(fake.comments.length, 1);
      assert.match(fake.comments[0]?.body ?? '', /rollout succeeded/);
      assert.deepEqual(fake.violations, []);
    } finally {
      await fake.close();
      await ns.cleanup();
    }
  });

  it('warns naming pull-requests: write on a 403 and still succeeds', async () => {
    const { ns, fake } = await setUp('gh-403', 3);
    try {
      fake.fail({
        path: /\/comments/,
        status: 403,
        message: 'Resource not accessible by integration',
        times: 1000,
      });
      const run = await runWithGitHub(ns, fake, {
        event: 'pull_request',
        payload: prEvent(9),
        inputs: {
          manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 3 })]),
          ...fast,
        },
      });
      assert.equal(run.outcome.result, 'succeeded', run.log.lines.join('\n'));
      assert.equal(run.log.warnings.length, 1, run.log.warnings.join('\n'));
      assert.match(run.log.warnings[0] ?? '', /pull-requests: write/);
      // The comment channel is switched off after the first 403: no request per transition.
      assert.equal(count(run.calls, /\/comments/), 1, run.calls.join('\n'));
      assert.equal(fake.comments.length, 0);
    } finally {
      await fake.close();
      await ns.cleanup();
    }
  });

  it('retries 5xx answers and then comments once', async () => {
    const { ns, fake } = await setUp('gh-5xx', 3);
    try {
      fake.fail({ method: 'POST', path: /\/comments$/, status: 502, message: 'Bad Gateway', times: 2 });
      fake.fail({ method: 'PATCH', path: /\/comments\/\d+$/, status: 503, times: 1 });
      const run = await runWithGitHub(ns, fake, {
        event: 'pull_request',
        payload: prEvent(10),
        inputs: {
          manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2', replicas: 3 })]),
          ...fast,
        },
      });
      assert.equal(run.outcome.result, 'succeeded', run.log.lines.join('\n'));
      const statuses = fake.requests.filter((r) => /comments/.test(r.path)).map((r) => r.status);
      assert.deepEqual(statuses.slice(0, 4), [200, 502, 502, 201], statuses.join(','));
      assert.ok(statuses.includes(503) && statuses.at(-1) === 200, statuses.join(','));
      assert.equal(fake.comments.length, 1);
      assert.match(fake.comments[0]?.body ?? '', /rollout succeeded/);
      assert.deepEqual(run.log.warnings, []);
      assert.deepEqual(fake.violations, []);
    } finally {
      await fake.close();
      await ns.cleanup();
    }
  });

  it('escapes a hostile termination message of a crashlooping canary in the comment', async () => {
    const { ns, fake } = await setUp('gh-hostile', 3);
    const hostile = '</details><script>alert(1)</script> | @everyone ``` [x](javascript:alert(1))';
    try {
      const run = await runWithGitHub(ns, fake, {
        event: 'pull_request',
        payload: prEvent(14),
        inputs: {
          manifests: manifestFile([
            canaryManifest({
              image: 'registry.local/db:v2-crashloop',
              replicas: 3,
              podAnnotations: { [terminationMessageAnnotation]: hostile },
            }),
          ]),
          ...fast,
        },
      });
      assert.equal(run.outcome.result, 'halted', run.log.lines.join('\n'));
      const body = commentsOn(fake, 14)[0]?.body ?? '';
      assert.match(body, /rollout halted/);
      assert.match(body, /\*\*Pod:\*\* `db-2`\n/);
      assert.ok(body.includes(hostile), 'the message is shown verbatim inside a code block');
      assertInert(body);
      assert.deepEqual(fake.violations, []);
    } finally {
      await fake.close();
      await ns.cleanup();
    }
  });
});

/** Outside fenced code blocks, nothing of the hostile text is live HTML, Markdown or a mention. */
function assertInert(body: string): void {
  const blocks = [...body.matchAll(/^(`{3,})text\n[\s\S]*?\n\1$/gm)];
  assert.equal(blocks.length, 1, body);
  const fence = blocks[0]?.[1] ?? '';
  assert.ok(fence.length > 3, 'the fence is longer than the ``` inside the message');
  const outside = body.replace(/^(`{3,})text\n[\s\S]*?\n\1$/gm, '');
  for (const live of ['<script', '</details>', '@everyone', '](javascript:', '```'])
    assert.ok(!outside.includes(live), `${live} outside the code block:\n${outside}`);
  // Rendered as GitHub does (raw HTML allowed), the message is text in a <pre>, not elements.
  const html = toHtml(body);
  for (const element of ['<script', '</details>', 'href="javascript:'])
    assert.ok(!html.includes(element), `${element} in the rendered comment:\n${html}`);
  assert.match(html, /<pre><code class="language-text">&lt;\/details&gt;&lt;script&gt;/);
}
