// A paused rollout that a newer merge starts over is told so on its own pull request (issue 15,
// safety), against the fake GitHub and the real local cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';
import { runWithGitHub } from '../support/run/with-github.ts';

describe('a paused rollout superseded by a newer merge', () => {
  let ns: TestNamespace;
  let fake: FakeGitHub;
  before(async () => {
    ns = await freshNamespace('superseded');
    fake = await startFakeGitHub();
  });
  after(async () => {
    await fake.close();
    await ns.cleanup();
  });
  const db = (image: string) =>
    manifestFile([canaryManifest({ image, replicas: 3, terminationGracePeriodSeconds: 0 })]);
  const merge = (number: number, image: string, extra: Record<string, string> = {}) =>
    runWithGitHub(ns, fake, {
      event: 'pull_request',
      payload: { action: 'closed', number, pull_request: { number, merged: true } },
      inputs: { manifests: db(image), soak: '0s', steps: '1, 100%', ...extra },
    });
  const commentOn = (pr: number) => fake.comments.find((c) => c.issue === pr)?.body ?? '';

  it('notes on the old pull request that its paused rollout was superseded, once, and rolls the new change out', async () => {
    assert.equal(
      (await runAction(ns, { manifests: db('registry.local/db:v1'), soak: '0s' })).outcome.result,
      'created',
    );
    assert.equal((await merge(31, 'registry.local/db:v2', { 'pause-after': '1' })).outcome.result, 'paused');
    assert.match(commentOn(31), /rollout paused/);
    const newer = await merge(32, 'registry.local/db:v3');
    assert.equal(newer.outcome.result, 'succeeded', newer.log.lines.join('\n'));
    assert.ok(newer.log.lines.some((l) => /paused at stage 1 \(pull request #31\) is superseded/.test(l)));
    const old = commentOn(31);
    assert.match(old, /rollout paused/, 'the old report stays');
    assert.match(
      old,
      /⏭️ \*\*Superseded:\*\* the rollout of `db-[a-z0-9]+`, paused after stage 1, was not promoted/,
    );
    assert.equal(old.match(/Superseded/g)?.length, 1, 'told once');
    assert.match(commentOn(32), /rollout succeeded/);
    assert.deepEqual(fake.violations, []);
  });
});
