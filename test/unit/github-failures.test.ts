import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { createGitHubReporter } from '../../src/adapters/github/reporter.ts';
import {
  fastRetry,
  noPace,
  pullRequestEvent,
  reporterFor,
  runContext,
  settings,
  stageReport,
  useFakeGitHub,
} from '../support/github/helpers.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('GitHub failures never break the rollout', () => {
  const github = useFakeGitHub();

  it('warns with the permission to add on a 403 (read-only fork token) and stops commenting', async () => {
    github.fake.fail({
      method: 'POST',
      path: /\/comments$/,
      status: 403,
      message: 'Resource not accessible by integration',
      times: 10,
    });
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log });
    await reporter.update(stageReport(0));
    await reporter.update(stageReport(2));
    await reporter.flush();
    assert.equal(log.warnings.length, 1);
    assert.match(
      log.warnings[0] ?? '',
      /Could not write the pull request comment for shop\/web \(HTTP 403: Resource not accessible by integration\)/,
    );
    assert.match(log.warnings[0] ?? '', /`permissions: pull-requests: write`/);
    assert.match(log.warnings[0] ?? '', /forks get a read-only token/);
    assert.match(log.warnings[0] ?? '', /The rollout goes on\.$/);
    assert.equal(github.fake.calls().filter((c) => c.startsWith('POST /repos')).length, 1);
  });

  it('warns on a 404 naming the pull request', async () => {
    github.fake.fail({
      method: 'GET',
      path: /\/issues\/7\/comments$/,
      status: 404,
      message: 'Not Found',
      times: 1,
    });
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log });
    await reporter.update(stageReport(0));
    await reporter.flush();
    assert.match(log.warnings[0] ?? '', /Pull request #7 was not found in acme\/shop/);
  });

  it('retries 5xx answers and then succeeds', async () => {
    github.fake.fail({ method: 'POST', path: /\/comments$/, status: 502, times: 2 });
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log });
    await reporter.update(stageReport(0));
    await reporter.flush();
    assert.equal(github.fake.comments.length, 1);
    assert.deepEqual(log.warnings, []);
    assert.equal(
      github.fake.calls().filter((c) => c === 'POST /repos/acme/shop/issues/7/comments').length,
      3,
    );
  });

  it('gives up after the retries on a lasting 5xx with a warning, and tries again at the next stage', async () => {
    github.fake.fail({ method: 'POST', path: /\/comments$/, status: 500, times: 5 });
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log });
    await reporter.update(stageReport(0));
    assert.match(
      log.warnings[0] ?? '',
      /HTTP 500.*GitHub kept failing after 5 attempts; the next stage will try again/,
    );
    await reporter.update(stageReport(2));
    await reporter.flush();
    assert.equal(github.fake.comments.length, 1);
  });

  it('waits as long as a secondary rate limit says in retry-after', async () => {
    github.fake.fail({
      method: 'PATCH',
      status: 403,
      message: 'You have exceeded a secondary rate limit',
      headers: { 'retry-after': '7' },
      times: 1,
    });
    github.fake.fail({ method: 'PATCH', status: 429, headers: { 'retry-after': '2' }, times: 1 });
    const sleeps: number[] = [];
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log, sleeps });
    await reporter.update(stageReport(0));
    await reporter.update(stageReport(1));
    await reporter.flush();
    assert.deepEqual(log.warnings, []);
    // p-retry's own backoff is 1 ms then 2 ms in these tests; the rest is topped up to retry-after.
    assert.deepEqual(sleeps, [6999, 1998]);
    assert.match(github.fake.comments[0]?.body ?? '', /⏳ soaking/);
  });

  it('gives up on this update when retry-after is longer than the cap', async () => {
    github.fake.fail({
      method: 'POST',
      path: /\/comments$/,
      status: 403,
      headers: { 'retry-after': '3600' },
      times: 1,
    });
    const sleeps: number[] = [];
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log, sleeps });
    await reporter.update(stageReport(0));
    assert.deepEqual(sleeps, []);
    assert.match(log.warnings[0] ?? '', /rate limit asks to wait 3600 s, more than the 60 s/);
    await reporter.update(stageReport(1));
    await reporter.flush();
    assert.equal(github.fake.comments.length, 1);
  });

  it('warns when GitHub does not answer in time, without retrying, and tries again at the next stage', async () => {
    github.fake.delay({ method: 'POST', path: /\/comments$/, ms: 1_000, times: 1 });
    const log = recordingLog();
    const reporter = createGitHubReporter({
      settings: settings(github.fake),
      run: runContext(github.fake, 'pull_request', pullRequestEvent),
      log,
      retry: { ...fastRetry(), requestTimeoutMs: 200 },
      pace: noPace,
    });
    await reporter.update(stageReport(0));
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0] ?? '', /GitHub did not answer within 200 ms; the next stage will try again/);
    assert.equal(github.fake.calls().filter((c) => c.startsWith('POST /repos')).length, 1, 'not retried');
    await reporter.update(stageReport(2));
    await reporter.flush();
    // GitHub wrote the comment it was slow to confirm: found again and updated, not doubled.
    assert.equal(github.fake.comments.length, 1);
    assert.match(github.fake.comments[0]?.body ?? '', /rollout in progress/);
  });

  it('warns once when the API is unreachable and stops trying', async () => {
    const port = await closedPort();
    const run = runContext(github.fake, 'pull_request', pullRequestEvent, {
      GITHUB_API_URL: `http://127.0.0.1:${port}`,
    });
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log, run });
    await reporter.update(stageReport(0));
    await reporter.update(stageReport(2));
    await reporter.flush();
    assert.equal(log.warnings.length, 1);
    assert.match(
      log.warnings[0] ?? '',
      new RegExp(`GitHub API at http://127\\.0\\.0\\.1:${port} is unreachable`),
    );
  });

  it('warns that the token was rejected on a 401', async () => {
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log, settings: { token: 'wrong-token' } });
    await reporter.update(stageReport(0));
    await reporter.flush();
    assert.match(log.warnings[0] ?? '', /`github-token` input was rejected/);
    assert.ok(!log.lines.join('\n').includes('wrong-token'), 'the token is never logged');
  });

  it('writes nothing and warns nothing without a token', async () => {
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { log, settings: { token: '' } });
    assert.equal(await reporter.pullRequest(), 7);
    await reporter.update(stageReport(0));
    await reporter.flush();
    assert.deepEqual(github.fake.calls(), []);
    assert.deepEqual(log.warnings, []);
  });
});
