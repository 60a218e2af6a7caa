// The bundled action (dist/index.js) run exactly as a GitHub Actions runner runs it, against
// the local control plane and the fake GitHub: INPUT_* variables, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files, the exit code and the workflow commands on stdout.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { githubEnv, inputEnv, mergedPull, pushEvent, runBundle } from '../support/run/bundle.ts';
import { manifestFile } from '../support/run/in-process.ts';

const sha = '0123456789abcdef0123456789abcdef01234567';

interface StageJson {
  readonly statefulSet: string;
  readonly stage: number;
  readonly partition: number;
  readonly ordinals: number[];
  readonly verdict: string;
  readonly startedAt: string;
  readonly endedAt: string;
}

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe('the bundled action run as a runner runs it', () => {
  let ns: TestNamespace;
  let fake: FakeGitHub;
  let apps: AppsV1Api;
  before(async () => {
    ns = await freshNamespace('bundle');
    apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    fake = await startFakeGitHub();
    fake.commitPulls.set(sha, [mergedPull(31, sha)]);
  });
  after(async () => {
    await fake.close();
    await ns.cleanup();
  });

  const env = (inputs: Record<string, string>) => ({
    ...inputEnv(inputs, fake.token),
    ...githubEnv(fake.url, 'push', pushEvent(sha)),
  });

  it('creates the StatefulSet, then rolls an image change out with outputs, summary and exit code 0', async () => {
    const kubeconfig = readFileSync(ns.kubeconfigPath, 'utf8');
    const inputs = { kubeconfig, soak: '2s', 'stage-timeout': '2m' };
    const created = await runBundle(
      env({ ...inputs, manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v1' })]) }),
    );
    assert.equal(created.code, 0, created.stdout + created.stderr);
    assert.equal(created.outputs.get('result'), 'created');
    const first = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });

    const run = await runBundle(
      env({ ...inputs, manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v2' })]) }),
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(run.outputs.get('result'), 'succeeded');
    assert.equal(run.outputs.get('revision'), sts.status?.updateRevision);
    assert.equal(run.outputs.get('previous-revision'), first.status?.updateRevision);
    assert.notEqual(run.outputs.get('revision'), run.outputs.get('previous-revision'));

    const stages = JSON.parse(run.outputs.get('stages') ?? 'null') as StageJson[];
    assert.deepEqual(
      stages.map((s) => [s.statefulSet, s.stage, s.partition, s.verdict]),
      [
        [`${ns.name}/db`, 1, 4, 'passed'],
        [`${ns.name}/db`, 2, 2, 'passed'],
        [`${ns.name}/db`, 3, 0, 'passed'],
      ],
    );
    assert.deepEqual(
      stages.map((s) => [...s.ordinals].sort()),
      [[4], [2, 3], [0, 1]],
    );
    for (const s of stages) {
      assert.match(s.startedAt, isoTime);
      assert.match(s.endedAt, isoTime);
      assert.ok(Date.parse(s.endedAt) - Date.parse(s.startedAt) >= 2000, `stage ${s.stage} soaked 2s`);
    }
    const duration = Number(run.outputs.get('duration-seconds'));
    assert.ok(duration >= 6 && duration * 1000 <= run.ms, `duration-seconds ${duration}, run ${run.ms} ms`);

    assert.match(run.summary, /\| Stage \| Partition \| Pods on new revision \| State \| Duration \|/);
    for (const row of [
      /\| 1 \(ordinal 4\) \| 4 \| 1\/5 \| ✅ passed \|/,
      /\| 3 \(ordinals 0–1\) \| 0 \| 5\/5 \|/,
    ])
      assert.match(run.summary, row);
    assert.match(run.summary, /rollout succeeded/);
    // The kubeconfig input and the token are registered as secrets (the runner masks them).
    assert.ok(run.stdout.includes(`::add-mask::${fake.token}`));
    const token = /"?token"?:\s*"?([A-Za-z0-9._-]+)/.exec(kubeconfig)?.[1];
    assert.ok(token !== undefined && run.stdout.includes(`::add-mask::${token}`), 'kubeconfig token masked');
    // The merged pull request of the push got the sticky comment.
    const comments = fake.comments.filter((c) => c.issue === 31);
    assert.equal(comments.length, 1);
    assert.match(comments[0]?.body ?? '', /rollout succeeded/);
    assert.deepEqual(fake.violations, []);
  });

  it('halts a crashlooping canary: exit 1, result=halted and an error naming the pod', async () => {
    const run = await runBundle({
      ...env({
        manifests: manifestFile([canaryManifest({ image: 'registry.local/db:v3-crashloop' })]),
        soak: '2s',
        'stage-timeout': '2m',
        'on-failure': 'halt',
      }),
      KUBECONFIG: ns.kubeconfigPath,
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(run.outputs.get('result'), 'halted');
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error::'));
    assert.equal(errors.length, 1, run.stdout);
    assert.match(errors[0] ?? '', /db-4/);
    assert.match(errors[0] ?? '', /CrashLoopBackOff/);
    const sts = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.partition, 4, 'halted at the canary stage');
    const stages = JSON.parse(run.outputs.get('stages') ?? 'null') as StageJson[];
    assert.deepEqual(
      stages.map((s) => s.verdict),
      ['failed', 'pending', 'pending'],
    );
    assert.match(run.summary, /rollout halted/);
    // Fail fast, not at the 2-minute stage timeout: the error is the pod's state, not StageTimeout.
    assert.doesNotMatch(errors[0] ?? '', /StageTimeout/);
  });
});
