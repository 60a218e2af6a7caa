import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commentMarker } from '../../src/adapters/github/comment.ts';
import { actionsBot } from '../support/github/fake-model.ts';
import { reporterFor, stageReport, useFakeGitHub } from '../support/github/helpers.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

const marker = commentMarker('kind-dev', 'shop', 'web');
const someone = { login: 'mallory', id: 666, type: 'User' } as const;

describe('the sticky pull request comment', () => {
  const github = useFakeGitHub();

  it('is created at the first stage and then updated in place through every stage', async () => {
    const reporter = reporterFor(github.fake);
    for (let step = 0; step <= 6; step++) await reporter.update(stageReport(step));
    await reporter.flush();
    assert.equal(github.fake.comments.length, 1);
    const [comment] = github.fake.comments;
    assert.equal(comment?.issue, 7);
    assert.equal(comment?.user.login, 'github-actions[bot]');
    assert.ok(comment?.body.startsWith(`${marker}\n### ✅ StatefulSet \`shop/web\`: rollout succeeded`));
    const writes = github.fake.calls().filter((c) => !c.startsWith('GET'));
    assert.deepEqual(writes, [
      'POST /graphql',
      'POST /repos/acme/shop/issues/7/comments',
      ...Array(6).fill(`PATCH /repos/acme/shop/issues/comments/${comment?.id}`),
    ]);
  });

  it('is updated, not added again, by a rerun', async () => {
    const first = reporterFor(github.fake);
    await first.update(stageReport(0));
    await first.flush();
    const rerun = reporterFor(github.fake);
    await rerun.update(stageReport(6));
    await rerun.flush();
    assert.equal(github.fake.comments.length, 1);
    assert.match(github.fake.comments[0]?.body ?? '', /rollout succeeded/);
  });

  it('is one comment per StatefulSet when a run rolls out two', async () => {
    const reporter = reporterFor(github.fake);
    await Promise.all([reporter.update(stageReport(0, 'web')), reporter.update(stageReport(0, 'db'))]);
    await reporter.update(stageReport(6, 'db'));
    await reporter.flush();
    assert.equal(github.fake.comments.length, 2);
    assert.deepEqual(github.fake.comments.map((c) => c.body.split('\n')[0]).sort(), [
      commentMarker('kind-dev', 'shop', 'db'),
      commentMarker('kind-dev', 'shop', 'web'),
    ]);
  });

  it('ignores a comment with the same marker written by someone else', async () => {
    const planted = github.fake.addComment(7, `${marker}\nplanted by someone else`, someone);
    const reporter = reporterFor(github.fake);
    await reporter.update(stageReport(0));
    await reporter.flush();
    assert.equal(github.fake.comments.length, 2);
    assert.equal(planted.body, `${marker}\nplanted by someone else`);
  });

  it('finds its comment on a later page of a long thread', async () => {
    for (let i = 0; i < 150; i++) github.fake.addComment(7, `chatter ${i}`, someone);
    const own = github.fake.addComment(7, `${marker}\nold report`, actionsBot);
    const reporter = reporterFor(github.fake);
    await reporter.update(stageReport(2));
    await reporter.flush();
    assert.equal(github.fake.comments.length, 151);
    assert.match(own.body, /rollout in progress/);
    assert.ok(github.fake.calls().includes('GET /repos/acme/shop/issues/7/comments'));
    assert.ok(github.fake.requests.some((r) => r.query.includes('page=2')));
  });

  it('recognises its own comments as the user of a personal access token', async () => {
    const me = { login: 'deploy-bot-user', id: 77, type: 'User' } as const;
    github.fake.identity = { kind: 'user', user: me };
    const own = github.fake.addComment(7, `${marker}\nold`, me);
    github.fake.addComment(7, `${marker}\nby the actions bot`, actionsBot);
    const reporter = reporterFor(github.fake);
    await reporter.update(stageReport(1));
    await reporter.flush();
    assert.match(own.body, /rollout in progress/);
    assert.equal(github.fake.comments.length, 2);
    assert.ok(!github.fake.calls().includes('POST /graphql'));
  });

  describe('when neither GET /user nor GraphQL says who the token is', () => {
    const app = { login: 'deploy-app[bot]', id: 99, type: 'Bot' } as const;

    it('finds its comment by the marker on a bot’s comment (GITHUB_TOKEN)', async () => {
      github.fake.identity = { kind: 'installation', bot: actionsBot, graphql: false };
      const own = github.fake.addComment(7, `${marker}\nold`, actionsBot);
      const log = recordingLog();
      const reporter = reporterFor(github.fake, { log });
      await reporter.update(stageReport(1));
      await reporter.flush();
      assert.match(own.body, /rollout in progress/);
      assert.equal(github.fake.comments.length, 1);
      assert.deepEqual(log.warnings, []);
    });

    it('keeps one comment across reruns with a GitHub App token', async () => {
      github.fake.identity = { kind: 'installation', bot: app, graphql: false };
      for (const step of [0, 6]) {
        const run = reporterFor(github.fake);
        await run.update(stageReport(step));
        await run.flush();
      }
      assert.equal(github.fake.comments.length, 1);
      assert.equal(github.fake.comments[0]?.user.login, 'deploy-app[bot]');
      assert.match(github.fake.comments[0]?.body ?? '', /rollout succeeded/);
      assert.equal(
        github.fake.calls().filter((c) => c === 'POST /repos/acme/shop/issues/7/comments').length,
        1,
      );
    });

    it('never takes over a person’s comment that carries the marker', async () => {
      github.fake.identity = { kind: 'installation', bot: app, graphql: false };
      const planted = github.fake.addComment(7, `${marker}\nplanted`, someone);
      const reporter = reporterFor(github.fake);
      await reporter.update(stageReport(1));
      await reporter.flush();
      assert.equal(planted.body, `${marker}\nplanted`);
      assert.equal(github.fake.comments.length, 2);
      assert.equal(github.fake.comments[1]?.user.login, 'deploy-app[bot]');
    });
  });

  it('coalesces a burst of ten updates into at most two PATCHes', async () => {
    const reporter = reporterFor(github.fake);
    await reporter.update(stageReport(0));
    const before = github.fake.requests.length;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => reporter.update(stageReport(i % 6, 'web', { updatedAt: i }))),
    );
    await reporter.flush();
    const patches = github.fake
      .calls()
      .slice(before)
      .filter((c) => c.startsWith('PATCH'));
    assert.ok(patches.length >= 1 && patches.length <= 2, `${patches.length} PATCHes`);
    assert.match(github.fake.comments[0]?.body ?? '', /Last updated 1970-01-01T00:00:00\.009Z/);
  });

  it('escapes a hostile termination message in the posted body', async () => {
    const reporter = reporterFor(github.fake);
    const terminationMessage =
      '```\n<script>alert(1)</script>\n<!-- x --> [x](javascript:alert(1)) @octocat | | |';
    await reporter.update(
      stageReport(1, 'web', {
        verdict: 'failed',
        failure: {
          stage: 1,
          pod: 'web-4',
          container: '<b>app</b>',
          reason: 'CrashLoopBackOff',
          message: 'pod web-4 @octocat',
          terminationMessage,
        },
      }),
    );
    await reporter.flush();
    const body = github.fake.comments[0]?.body ?? '';
    assert.match(body, /````text\n```\n<script>alert\(1\)<\/script>/);
    // An identifier is a code span: shown as written, and inert there.
    assert.ok(body.includes('**Container:** `<b>app</b>`'));
    assert.ok(body.includes('pod web\\-4 @\u200boctocat'));
  });

  it('shows a crashed container’s last log lines in the posted body, backticks and all', async () => {
    const reporter = reporterFor(github.fake);
    const lines = ['Error: config key `db.url` missing', '``` <script>alert(1)</script> @octocat'];
    await reporter.update(
      stageReport(1, 'web', {
        verdict: 'failed',
        failure: {
          stage: 1,
          pod: 'web-4',
          container: 'app',
          reason: 'CrashLoopBackOff',
          message: 'pod web-4 container app is in CrashLoopBackOff at stage 1',
          terminationMessage: undefined,
          crashLogs: [{ pod: 'web-4', container: 'app', previous: true, lines, cut: false, note: undefined }],
        },
      }),
    );
    await reporter.flush();
    const body = github.fake.comments[0]?.body ?? '';
    assert.ok(body.includes('Last 2 log lines of `web-4`, container `app` (previous instance):'), body);
    assert.ok(body.includes(`\`\`\`\`text\n${lines.join('\n')}\n\`\`\`\``), body);
  });

  it('is not written when the comment input is false', async () => {
    const reporter = reporterFor(github.fake, { settings: { comment: false } });
    await reporter.update(stageReport(0));
    await reporter.flush();
    assert.deepEqual(github.fake.calls(), []);
  });
});
