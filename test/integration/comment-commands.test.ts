// Commands from pull request comments (issue 15, part 3): a workflow on issue_comment with
// `command: comment`, against the fake GitHub (every request checked against GitHub's OpenAPI
// description) and the real local cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { type FakeGitHub, startFakeGitHub, type User } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { toHtml } from '../support/rendered.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';
import { runWithGitHub } from '../support/run/with-github.ts';

const maintainer: User = { login: 'mona', id: 1, type: 'User' };
const reader: User = { login: 'hubot-fan', id: 2, type: 'User' };
describe('commands in pull request comments', () => {
  let ns: TestNamespace;
  let fake: FakeGitHub;
  let apps: AppsV1Api;
  before(async () => {
    ns = await freshNamespace('commands');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    fake = await startFakeGitHub();
    fake.roles.set(maintainer.login, 'maintain');
    fake.roles.set(reader.login, 'read');
    const db = (image: string) =>
      manifestFile([canaryManifest({ image, replicas: 3, terminationGracePeriodSeconds: 0 })]);
    assert.equal(
      (await runAction(ns, { manifests: db('registry.local/db:v1'), soak: '0s' })).outcome.result,
      'created',
    );
    // The merge of pull request 21 rolls v2 out and pauses after the canary.
    const merged = await runWithGitHub(ns, fake, {
      event: 'pull_request',
      payload: { action: 'closed', number: 21, pull_request: { number: 21, merged: true } },
      inputs: { manifests: db('registry.local/db:v2'), soak: '0s', steps: '1, 100%', 'pause-after': '1' },
    });
    assert.equal(merged.outcome.result, 'paused', merged.log.lines.join('\n'));
  });
  after(async () => {
    await fake.close();
    await ns.cleanup();
  });

  const comment = (user: User, body: string) => {
    const written = fake.addComment(21, body, user);
    return runWithGitHub(ns, fake, {
      event: 'issue_comment',
      payload: {
        action: 'created',
        issue: { number: 21, pull_request: { url: 'http://fake/pulls/21' } },
        comment: { id: written.id, body, user: { login: user.login, type: user.type } },
      },
      inputs: { command: 'comment', soak: '0s' },
    }).then((run) => ({ run, id: written.id }));
  };
  const sticky = () =>
    fake.comments.find((c) => c.issue === 21 && c.body.includes('<!-- statefulset-canary: local/'));
  const reactions = (id: number) => fake.reactions.filter(([c]) => c === id).map(([, r]) => r);

  it('refuses a reader, reacting -1 and answering in the sticky comment, changing nothing', async () => {
    const before = (await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name })).metadata
      ?.generation;
    const { run, id } = await comment(reader, '/canary promote');
    assert.match(run.outcome.text ?? '', /hubot-fan has read permission.*write, maintain or admin/);
    assert.deepEqual(reactions(id), ['eyes', '-1']);
    assert.match(sticky()?.body ?? '', /@hubot-fan\*\*, comment \d+: @hubot-fan has read permission/);
    assert.equal(
      (await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name })).metadata?.generation,
      before,
    );
    assert.equal(
      fake.comments.filter((c) => c.issue === 21 && c.user.type === 'Bot').length,
      1,
      'no new comment',
    );
    assert.deepEqual(fake.violations, []);
  });

  it('answers an injection attempt with the valid commands, inert, and runs nothing', async () => {
    const hostile = '/canary rollback 1; kubectl delete ns --all <img src=x onerror=alert(1)> @octocat `x`';
    const { run, id } = await comment(maintainer, hostile);
    assert.match(run.outcome.text ?? '', /takes one revision number/);
    assert.deepEqual(reactions(id), ['eyes', '-1']);
    const html = toHtml(sticky()?.body ?? '');
    assert.doesNotMatch(html, /<img|<a href="javascript|<code>x<\/code>/, html);
    assert.match(html, /\/canary promote/, 'the answer lists the valid commands');
  });

  it('ignores comments that are not commands, edits, bots and issues', async () => {
    const plain = await comment(maintainer, 'Looks good to me');
    assert.match(plain.run.outcome.text ?? '', /ignored/);
    assert.deepEqual(reactions(plain.id), []);
    const edited = await runWithGitHub(ns, fake, {
      event: 'issue_comment',
      payload: {
        action: 'edited',
        issue: { number: 21, pull_request: {} },
        comment: { id: 1, body: '/canary abort', user: maintainer },
      },
      inputs: { command: 'comment' },
    });
    assert.match(edited.outcome.text ?? '', /ignored: the comment was edited/);
    const onIssue = await runWithGitHub(ns, fake, {
      event: 'issue_comment',
      payload: {
        action: 'created',
        issue: { number: 22 },
        comment: { id: 2, body: '/canary abort', user: maintainer },
      },
      inputs: { command: 'comment' },
    });
    assert.match(onIssue.outcome.text ?? '', /ignored: the comment is on an issue/);
  });

  it('shows status, then promotes the paused rollout for a maintainer, reporting in the same comment', async () => {
    const status = await comment(maintainer, '/canary status');
    assert.deepEqual(reactions(status.id), ['eyes', '+1']);
    assert.match(
      sticky()?.body ?? '',
      /`\/canary status` of `commands-[a-f0-9]+\/db`:[\s\S]*Recorded rollout: paused at stage 1/,
    );
    const { run, id } = await comment(maintainer, 'Canary looks healthy.\n/canary promote');
    assert.equal(run.outcome.result, 'succeeded', run.log.lines.join('\n'));
    assert.deepEqual(reactions(id), ['eyes', '+1']);
    const body = sticky()?.body ?? '';
    assert.match(body, /rollout succeeded/);
    assert.match(body, /`\/canary promote` on `commands-[a-f0-9]+\/db`: result `succeeded`/);
    const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.partition, 0);
    assert.deepEqual(fake.violations, []);
  });
});
