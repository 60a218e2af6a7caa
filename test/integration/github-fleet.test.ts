// One pull request comment for a run of several StatefulSets (issue 25 item 3), on the local
// control plane, as today's runner rolls them out (one after another, stopping at the first that
// fails): one fleet comment instead of one per StatefulSet, with the one that failed first, the
// one after it not rolled out, and the `statefulsets` output naming each one's context and wave.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshNamespace } from '../cluster/harness.ts';
import { startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { toHtml } from '../support/rendered.ts';
import { manifestFile, runAction } from '../support/run/in-process.ts';
import { runWithGitHub } from '../support/run/with-github.ts';

const fast = { soak: '1s', 'stage-timeout': '2m', 'on-failure': 'halt' };
const names = ['alpha', 'bravo', 'charlie'];
const manifests = (image: (name: string) => string) =>
  manifestFile(names.map((name) => canaryManifest({ name, image: image(name), replicas: 3 })));

describe('the fleet comment of a run of three StatefulSets', () => {
  it('is one comment: the failure first, every StatefulSet in the table, the one after the failure not rolled out', async () => {
    const ns = await freshNamespace('gh-fleet');
    const fake = await startFakeGitHub();
    try {
      const created = await runAction(ns, { manifests: manifests(() => 'registry.local/db:v1'), ...fast });
      assert.equal(created.outcome.result, 'created', created.logs.join('\n'));
      const run = await runWithGitHub(ns, fake, {
        event: 'pull_request',
        payload: { action: 'synchronize', number: 21, pull_request: { number: 21 } },
        inputs: {
          manifests: manifests((name) =>
            name === 'bravo' ? 'registry.local/db:v2-crashloop' : 'registry.local/db:v2',
          ),
          'deployment-environment': 'production',
          ...fast,
        },
      });
      assert.equal(run.outcome.result, 'halted', run.log.lines.join('\n'));
      assert.equal(fake.comments.length, 1, fake.comments.map((c) => c.body.split('\n')[0]).join('\n'));
      const body = fake.comments[0]?.body ?? '';
      assert.match(body.split('\n')[0] ?? '', /^<!-- statefulset-canary fleet: local [0-9a-f]{12} -->$/);
      assert.match(body, /^### ⏸️ rollout halted: 3 StatefulSets, 3 waves, 1 cluster$/m);
      const row = (name: string) => body.split('\n').find((l) => l.includes(`| \`${ns.name}/${name}\` |`));
      assert.match(row('alpha') ?? '', /3\/3 ✅ passed · 3\/3 pods \| ✅ rollout succeeded \|$/);
      assert.match(row('bravo') ?? '', /❌ failed · \d\/3 pods \| ⏸️ rollout halted \|$/);
      assert.match(row('charlie') ?? '', /\| — \| ⏹️ not rolled out \|$/);
      assert.ok(body.indexOf('#### Failures') < body.indexOf('| Wave |'), 'the failure comes first');
      const html = toHtml(body);
      assert.equal((html.match(/<details>/g) ?? []).length, 2, 'details of the two that ran');
      assert.ok(
        html.indexOf('rollout halted: <code>local</code>') <
          html.indexOf('rollout succeeded: <code>local</code>'),
      );
      // The outputs name each StatefulSet's context and wave; deployments stay in one environment.
      assert.deepEqual(
        run.outcome.statefulSets.map((s) => [s.statefulSet.split('/')[1], s.context, s.wave, s.result]),
        [
          ['alpha', 'local', 1, 'succeeded'],
          ['bravo', 'local', 2, 'halted'],
        ],
      );
      assert.deepEqual(
        fake.deployments.map((d) => d.body.environment),
        ['production', 'production'],
      );
      assert.deepEqual(fake.violations, []);
    } finally {
      await fake.close();
      await ns.cleanup();
    }
  });
});
