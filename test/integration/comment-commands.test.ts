// Commands from pull request comments (issue 15, part 3): a workflow on issue_comment with
// `command: comment`, against the fake GitHub (every request checked against GitHub's OpenAPI
// description) and the real local cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import type { User } from '../support/github/fake-model.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { toHtml } from '../support/rendered.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';
import { runWithGitHub } from '../support/run/with-github.ts';

const maintainer: User = { login: 'mona', id: 1, type: 'User' };
const reader: User = { login: 'hubot-fan', id: 2, type: 'User' };
const deployer: User = { login: 'dee', id: 3, type: 'User' };
const writes = (calls: readonly string[]) => calls.filter((c) => /^(POST|PATCH|DELETE|PUT) /.test(c));
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
    // A custom repository role based on write (GitHub's `permission` says write, `role_name` deployer).
    fake.customRoles.set('deployer', 'write');
    fake.roles.set(deployer.login, 'deployer');
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

  const comment = (user: User, body: string, pr = 21) => {
    const written = fake.addComment(pr, body, user);
    return runWithGitHub(ns, fake, {
      event: 'issue_comment',
      payload: {
        action: 'created',
        issue: { number: pr, pull_request: { url: `http://fake/pulls/${pr}` } },
        comment: { id: written.id, body, user: { login: user.login, type: user.type } },
      },
      inputs: { command: 'comment', soak: '0s' },
    }).then((run) => ({ run, id: written.id }));
  };
  const sticky = (pr = 21) =>
    fake.comments.find((c) => c.issue === pr && c.body.startsWith('<!-- statefulset-canary: local/'));
  const live = async () => {
    const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    return {
      generation: sts.metadata?.generation,
      partition: sts.spec?.updateStrategy?.rollingUpdate?.partition,
    };
  };
  const reactions = (id: number) => fake.reactions.filter(([c]) => c === id).map(([, r]) => r);

  it('writes nothing for a reader: the permission is asked before any reaction or edit', async () => {
    const before = await live();
    const body = sticky()?.body;
    const { run, id } = await comment(reader, '/canary promote');
    assert.match(run.outcome.text ?? '', /hubot-fan has read permission.*write, maintain or admin/);
    assert.deepEqual(reactions(id), []);
    assert.deepEqual(writes(run.calls), [], run.calls.join('\n'));
    assert.equal(sticky()?.body, body, 'the rollout comment is not edited');
    assert.match(run.log.lines.join('\n'), /Nothing was written/);
    assert.deepEqual(await live(), before);
    assert.deepEqual(fake.violations, []);
  });

  it('accepts a custom repository role with write as write', async () => {
    const { run, id } = await comment(deployer, '/canary status');
    assert.deepEqual(reactions(id), ['eyes', '+1'], run.log.lines.join('\n'));
    assert.match(sticky()?.body ?? '', /@dee\*\*, comment \d+: `\/canary status`/);
  });

  it('answers an injection attempt with the valid commands, inert, and runs nothing', async () => {
    const hostile = '/canary rollback 1; kubectl delete ns --all <img src=x onerror=alert(1)> @octocat `x`';
    const { run, id } = await comment(maintainer, hostile);
    assert.match(run.outcome.text ?? '', /takes one revision number/);
    assert.deepEqual(reactions(id), ['eyes', '-1']);
    const html = toHtml(sticky()?.body ?? '');
    assert.doesNotMatch(html, /<img|<a href="javascript|<code>x<\/code>/, html);
    assert.match(html, /\/canary promote/, 'the answer lists the valid commands');
    assert.equal(writes(run.calls).filter((c) => c.startsWith('PATCH')).length, 1, 'one answer');
  });

  it('ignores comments that are not commands, edits, bots and issues', async () => {
    for (const body of [
      'Looks good to me',
      'Try this:\n```\n/canary abort\n```',
      '<!--\n/canary abort\n-->',
      '> /canary abort',
    ]) {
      const plain = await comment(maintainer, body);
      assert.match(plain.run.outcome.text ?? '', /ignored/, body);
      assert.deepEqual(reactions(plain.id), []);
      assert.deepEqual(writes(plain.run.calls), []);
    }
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

  it('acts once per StatefulSet however many rollout comments name it, and never rolls back twice', async () => {
    // A retried POST (its first answer lost) left a second rollout comment with the same marker.
    const first = sticky();
    assert.ok(first);
    const copy = fake.addComment(21, first.body, first.user);
    const rollback = await comment(maintainer, '/canary rollback');
    assert.equal(rollback.run.outcome.result, 'rolled-back', rollback.run.log.lines.join('\n'));
    assert.equal(rollback.run.outcome.statefulSets.length, 1);
    assert.doesNotMatch(copy.body, /canary rollback/, 'the copy is not acted on nor answered');
    const after = await live();
    const again = await comment(maintainer, '/canary rollback');
    assert.deepEqual(reactions(again.id), ['eyes', '-1']);
    assert.match(again.run.outcome.failure ?? '', /already rolled back by pull request #21/);
    assert.deepEqual(await live(), after, 'the second rollback changed nothing');
    assert.deepEqual(fake.violations, []);
  });

  it('refuses a comment on an old pull request over a newer paused rollout, naming the owner', async () => {
    const merged = await runWithGitHub(ns, fake, {
      event: 'pull_request',
      payload: { action: 'closed', number: 22, pull_request: { number: 22, merged: true } },
      inputs: {
        manifests: manifestFile([
          canaryManifest({ image: 'registry.local/db:v3', replicas: 3, terminationGracePeriodSeconds: 0 }),
        ]),
        soak: '0s',
        steps: '1, 100%',
        'pause-after': '1',
      },
    });
    assert.equal(merged.outcome.result, 'paused', merged.log.lines.join('\n'));
    const before = await live();
    for (const command of ['/canary abort', '/canary promote', '/canary rollback']) {
      const old = await comment(maintainer, command, 21);
      assert.match(
        old.run.outcome.failure ?? '',
        /runs revision db-[a-z0-9]+, rolled out by pull request #22 \(paused\): \/canary acts only on what pull request #21 rolled out/,
        command,
      );
      assert.deepEqual(reactions(old.id), ['eyes', '-1']);
    }
    assert.deepEqual(await live(), before, 'the paused rollout of #22 is untouched');
  });

  it('takes no target from a marker quoted in a plan diff or an annotation', async () => {
    // Our own plan comment, whose diff quotes a forged rollout marker at the start of a line.
    const forged = '<!-- statefulset-canary: local/kube-system/etcd -->';
    const plan = fake.addComment(
      22,
      `<!-- statefulset-canary plan: local/${ns.name}/db -->\n\`\`\`diff\n+  annotations:\n${forged}\n\`\`\`\n`,
      { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
    );
    const planBody = plan.body;
    const own = sticky(22);
    assert.ok(own);
    own.body = `${own.body}\n${forged}\n`;
    const { run, id } = await comment(maintainer, '/canary abort', 22);
    assert.equal(run.outcome.result, 'rolled-back', run.log.lines.join('\n'));
    assert.deepEqual(
      run.outcome.statefulSets.map((s) => s.statefulSet),
      [`${ns.name}/db`],
    );
    assert.deepEqual(reactions(id), ['eyes', '+1']);
    assert.equal(plan.body, planBody, 'the plan comment is not answered in');
    assert.doesNotMatch(run.log.lines.join('\n'), /kube-system|etcd/);
    assert.deepEqual(fake.violations, []);
  });
});
