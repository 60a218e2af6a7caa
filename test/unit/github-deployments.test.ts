import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploymentStatus } from '../../src/adapters/github/deployments.ts';
import type { Verdict } from '../../src/engine/report.ts';
import { reporterFor, stageReport, useFakeGitHub } from '../support/github/helpers.ts';
import { recordingLog } from '../support/recording-log.ts';

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
  });

  const outcomes: Array<[Verdict, string]> = [
    ['failed', 'failure'],
    ['halted', 'failure'],
    ['rolled-back', 'failure'],
    ['cancelled', 'error'],
    ['no-change', 'inactive'],
    ['created', 'success'],
  ];
  for (const [verdict, state] of outcomes) {
    it(`end a ${verdict} rollout with ${state}`, async () => {
      const reporter = reporterFor(github.fake, { settings: { deploymentEnvironment: 'staging' } });
      await reporter.update(stageReport(1, 'web', { verdict }));
      await reporter.flush();
      assert.deepEqual(
        github.fake.deployments[0]?.statuses.map((s) => s.state),
        [state],
      );
    });
  }

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
