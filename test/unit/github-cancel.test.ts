// A cancelled run's last reports, within the runner's budget: on cancel the runner sends
// SIGINT, waits 7.5 s, sends SIGTERM, waits 2.5 s and kills the step. With the normal retry
// policy (30 s per request, 5 attempts) a slow GitHub would still be answering when the step is
// killed, and the deployment would show in_progress for ever. These tests use that normal
// policy and real time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGitHubReporter } from '../../src/adapters/github/reporter.ts';
import { cancelBudget } from '../../src/adapters/github/session.ts';
import type { FakeGitHub } from '../support/github/fake-server.ts';
import { noPace, runContext, settings, stageReport, useFakeGitHub } from '../support/github/helpers.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

/** The runner's wait between SIGINT and SIGTERM. */
const untilSigterm = 7_500;

function reporterWithDefaultRetries(fake: FakeGitHub) {
  const log = recordingLog();
  const reporter = createGitHubReporter({
    settings: settings(fake, { deploymentEnvironment: 'production' }),
    run: runContext(fake, 'pull_request', { number: 7, pull_request: { number: 7 } }),
    log,
    pace: noPace,
  });
  return { reporter, log };
}

const statusStates = (fake: FakeGitHub) =>
  fake.requests.filter((r) => r.path.endsWith('/statuses')).map((r) => (r.body as { state: string }).state);
const commentWrites = (fake: FakeGitHub) =>
  fake.requests
    .filter((r) => r.method !== 'GET' && r.path.includes('/comments'))
    .map((r) => r.body as { body: string });

describe('a cancelled run’s last reports', () => {
  const github = useFakeGitHub();

  it('are attempted, and given up, within the runner’s budget although GitHub answers slowly', async (t) => {
    const { reporter, log } = reporterWithDefaultRetries(github.fake);
    await reporter.update(stageReport(0));
    await reporter.update(stageReport(1));
    // From now on GitHub takes a minute to answer (what it writes, it writes at once).
    github.fake.delay({ ms: 60_000, times: Number.POSITIVE_INFINITY });
    void reporter.update(stageReport(2)); // in flight when the cancel comes
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelledAt = Date.now();
    reporter.hurry();
    await reporter.update(stageReport(2, 'web', { verdict: 'cancelled' }));
    await reporter.flush();
    const took = Date.now() - cancelledAt;
    t.diagnostic(`last reports settled ${took} ms after the cancel`);

    assert.ok(took < untilSigterm, `${took} ms: past the runner's SIGTERM`);
    assert.ok(took >= cancelBudget.inFlightMs, `${took} ms: the request in flight was given its time`);
    // The cancel's status and comment were sent (GitHub applies them even though it answers late).
    assert.equal(statusStates(github.fake).at(-1), 'error');
    assert.equal(github.fake.deployments[0]?.statuses.at(-1)?.state, 'error');
    assert.match(commentWrites(github.fake).at(-1)?.body ?? '', /rollout cancelled/);
    // No long retry chain: at most 1 + cancelBudget.retries attempts per write after the cancel.
    const afterCancel = github.fake.requests.slice(
      github.fake.requests.findIndex(
        (r) => r.path.endsWith('/statuses') && (r.body as { state: string }).state === 'error',
      ),
    );
    assert.ok(afterCancel.filter((r) => r.path.endsWith('/statuses')).length <= 1 + cancelBudget.retries);
    assert.ok(
      log.warnings.every((w) => /The run was cancelled and GitHub did not answer in time/.test(w)),
      log.warnings.join('\n'),
    );
  });

  it('go out at once, with no warning, when GitHub answers', async () => {
    const { reporter, log } = reporterWithDefaultRetries(github.fake);
    await reporter.update(stageReport(0));
    reporter.hurry();
    await reporter.update(stageReport(0, 'web', { verdict: 'cancelled' }));
    await reporter.flush();
    assert.deepEqual(statusStates(github.fake), ['in_progress', 'error']);
    assert.match(github.fake.comments[0]?.body ?? '', /rollout cancelled/);
    assert.deepEqual(log.warnings, []);
  });

  it('are retried once, quickly, after a 5xx', async () => {
    const { reporter, log } = reporterWithDefaultRetries(github.fake);
    await reporter.update(stageReport(0));
    reporter.hurry();
    github.fake.fail({ method: 'POST', path: /\/statuses$/, status: 502, times: 1 });
    await reporter.update(stageReport(0, 'web', { verdict: 'cancelled' }));
    await reporter.flush();
    assert.deepEqual(statusStates(github.fake), ['in_progress', 'error', 'error']);
    assert.equal(github.fake.deployments[0]?.statuses.at(-1)?.state, 'error');
    assert.deepEqual(log.warnings, []);
  });
});
