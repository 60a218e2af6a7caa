import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploymentStatus } from '../../src/adapters/github/deployments.ts';
import type { RolloutReport, Verdict } from '../../src/engine/report.ts';
import { reporterFor, stageReport, t0, useFakeGitHub } from '../support/github/helpers.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

const payloadOf = (kind: RolloutReport['kind']) => ({
  kind,
  context: 'kind-dev',
  namespace: 'shop',
  name: 'web',
});

describe('GitHub Deployments', () => {
  const github = useFakeGitHub();

  it('are one deployment per rollout with in_progress at each stage, then success', async () => {
    const reporter = reporterFor(github.fake, {
      settings: { deploymentEnvironment: 'production', comment: false },
    });
    for (let step = 0; step <= 6; step++) await reporter.update(stageReport(step));
    await reporter.flush();
    assert.equal(github.fake.deployments.length, 1);
    const [deployment] = github.fake.deployments;
    assert.deepEqual(
      {
        ref: deployment?.body.ref,
        environment: deployment?.body.environment,
        auto_merge: deployment?.body.auto_merge,
        required_contexts: deployment?.body.required_contexts,
        payload: deployment?.body.payload,
      },
      {
        ref: '0123456789abcdef0123456789abcdef01234567',
        environment: 'production',
        auto_merge: false,
        required_contexts: [],
        payload: {
          kind: 'rollout',
          context: 'kind-dev',
          namespace: 'shop',
          name: 'web',
          revision: 'web-7f8e9a0b1',
          previousRevision: 'web-5c6d7e8f9',
        },
      },
    );
    assert.deepEqual(
      deployment?.statuses.map((s) => s.state),
      ['in_progress', 'in_progress', 'in_progress', 'success'],
    );
    assert.ok(
      deployment?.statuses.every(
        (s) => s.log_url === 'https://github.com/acme/shop/actions/runs/42/attempts/1',
      ),
    );
    assert.equal(deployment?.statuses[1]?.description, 'shop/web: stage 2/3, 1/5 pods on web-7f8e9a0b1');
    assert.equal(deployment?.body.description, 'statefulset-canary rollout of shop/web to web-7f8e9a0b1');
  });

  it('never let GitHub mark other deployments inactive (auto_inactive false on every status)', async () => {
    const reporter = reporterFor(github.fake, {
      settings: { deploymentEnvironment: 'production', comment: false },
    });
    // Two StatefulSets of one run, one after the other, in one environment.
    for (const name of ['db', 'web'])
      for (const step of [0, 6]) await reporter.update(stageReport(step, name));
    await reporter.flush();
    assert.equal(github.fake.deployments.length, 2);
    const statuses = github.fake.deployments.flatMap((d) => d.statuses);
    assert.equal(statuses.length, 4);
    assert.ok(
      statuses.every((s) => s.auto_inactive === false),
      JSON.stringify(statuses),
    );
    assert.deepEqual(
      github.fake.deployments.map((d) => d.statuses.at(-1)?.state),
      ['success', 'success'],
    );
  });

  const outcomes: Array<[RolloutReport['kind'], Verdict, string]> = [
    ['rollout', 'failed', 'failure'],
    ['rollout', 'halted', 'failure'],
    ['rollout', 'rolled-back', 'failure'],
    ['rollout', 'cancelled', 'error'],
    ['rollout', 'no-change', 'inactive'],
    ['rollout', 'created', 'success'],
    ['rollback', 'rolled-back', 'success'],
    ['rollback', 'failed', 'failure'],
    ['rollback', 'cancelled', 'error'],
  ];
  for (const [kind, verdict, state] of outcomes) {
    it(`end a ${verdict} ${kind} with ${state}`, async () => {
      const reporter = reporterFor(github.fake, { settings: { deploymentEnvironment: 'staging' } });
      await reporter.update(stageReport(1, 'web', { kind, verdict }));
      await reporter.flush();
      assert.deepEqual(
        github.fake.deployments[0]?.statuses.map((s) => s.state),
        [state],
      );
    });
  }

  it('name the revision a manual rollback restores, in the deployment and its statuses', async () => {
    const reporter = reporterFor(github.fake, {
      settings: { deploymentEnvironment: 'production', comment: false },
    });
    // A rollback's revision is the one it restores; previousRevision the one it leaves.
    const rollback = {
      kind: 'rollback',
      revision: 'web-5c6d7e8f9',
      previousRevision: 'web-7f8e9a0b1',
    } as const;
    await reporter.update(stageReport(4, 'web', rollback));
    await reporter.update(stageReport(6, 'web', { ...rollback, verdict: 'rolled-back' }));
    await reporter.flush();
    const [deployment] = github.fake.deployments;
    assert.equal(deployment?.body.description, 'statefulset-canary rollback of shop/web to web-5c6d7e8f9');
    assert.deepEqual(deployment?.body.payload, {
      kind: 'rollback',
      context: 'kind-dev',
      namespace: 'shop',
      name: 'web',
      revision: 'web-5c6d7e8f9',
      previousRevision: 'web-7f8e9a0b1',
    });
    assert.deepEqual(
      deployment?.statuses.map((s) => [s.state, s.description]),
      [
        ['in_progress', 'shop/web: rollback stage 3/3, 3/5 pods on restored web-5c6d7e8f9'],
        ['success', 'shop/web: rolled back to web-5c6d7e8f9 from web-7f8e9a0b1'],
      ],
    );
  });

  it('name the revision an automatic rollback went back to, and end it a failure', async () => {
    const reporter = reporterFor(github.fake, { settings: { deploymentEnvironment: 'production' } });
    await reporter.update(
      stageReport(1, 'web', {
        verdict: 'rolled-back',
        rollback: { reason: 'crash', toRevision: 'web-5c6d7e8f9', state: 'succeeded', deletedPods: [] },
      }),
    );
    await reporter.flush();
    assert.deepEqual(
      github.fake.deployments[0]?.statuses.map((s) => [s.state, s.description]),
      [['failure', 'shop/web: rolled back to web-5c6d7e8f9 from web-7f8e9a0b1']],
    );
  });

  it('give a StatefulSet rolled out and then back in one run a second deployment for the rollback', async () => {
    const reporter = reporterFor(github.fake, { settings: { deploymentEnvironment: 'production' } });
    await reporter.update(stageReport(6, 'web'));
    await reporter.flush();
    const back = { kind: 'rollback', revision: 'web-5c6d7e8f9', previousRevision: 'web-7f8e9a0b1' } as const;
    await reporter.update(
      stageReport(6, 'web', { ...back, verdict: 'rolled-back', startedAt: t0 + 600_000 }),
    );
    await reporter.flush();
    assert.deepEqual(
      github.fake.deployments.map((d) => [d.body.payload, d.statuses.map((s) => s.state)]),
      [
        [
          { ...payloadOf('rollout'), revision: 'web-7f8e9a0b1', previousRevision: 'web-5c6d7e8f9' },
          ['success'],
        ],
        [
          { ...payloadOf('rollback'), revision: 'web-5c6d7e8f9', previousRevision: 'web-7f8e9a0b1' },
          ['success'],
        ],
      ],
    );
  });

  it('warn with the deployments permission on a 403 and leave the comment alone', async () => {
    github.fake.fail({
      method: 'POST',
      path: /\/deployments$/,
      status: 403,
      message: 'Resource not accessible by integration',
      times: 5,
    });
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log, settings: { deploymentEnvironment: 'production' } });
    await reporter.update(stageReport(0));
    await reporter.update(stageReport(6));
    await reporter.flush();
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0] ?? '', /GitHub Deployment status .*`permissions: deployments: write`/);
    assert.equal(github.fake.comments.length, 1);
    assert.match(github.fake.comments[0]?.body ?? '', /rollout succeeded/);
  });

  it('keep status descriptions within GitHub’s 140 characters', () => {
    const long = stageReport(2, 'a'.repeat(200));
    assert.ok(deploymentStatus(long).description.length <= 140);
  });
});
