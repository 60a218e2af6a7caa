// GitHub's secondary rate limits under load: the run's comment writes are paced (at most one
// every 10 s per run: 6 a minute, 360 an hour, under GitHub's documented 80 and 500) and
// coalesced (a write that waited sends the newest body), and a retry-after longer than the
// retry policy waits never loses the final result. Time is a fake clock; nothing sleeps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGitHubReporter, type GitHubReporter } from '../../src/adapters/github/reporter.ts';
import type { RolloutReport } from '../../src/engine/report.ts';
import type { FakeGitHub } from '../support/github/fake-server.ts';
import {
  fastRetry,
  flushOn,
  pullRequestEvent,
  runContext,
  settings,
  stageReport,
  t0,
  useFakeGitHub,
} from '../support/github/helpers.ts';
import { FakeClock } from '../support/scripted/fake-clock.ts';
import { type RecordingLog, recordingLog } from '../support/scripted/recording-log.ts';

const github = useFakeGitHub();

function paced(fake: FakeGitHub, clock: FakeClock, log: RecordingLog): GitHubReporter {
  const now = () => clock.now();
  return createGitHubReporter({
    settings: settings(fake),
    run: runContext(fake, 'pull_request', pullRequestEvent),
    log,
    retry: { ...fastRetry(), now },
    pace: { minIntervalMs: 10_000, sleep: (ms) => clock.sleep(ms), now },
  });
}

const writes = (fake: FakeGitHub) =>
  fake
    .calls()
    .filter((c) =>
      /^(POST \/repos\/acme\/shop\/issues\/\d+\/comments|PATCH \/repos\/acme\/shop\/issues\/comments\/)/.test(
        c,
      ),
    );

const ticking = (i: number): RolloutReport => stageReport(2, 'web', { updatedAt: t0 + 60_000 + i * 1000 });

describe('comment writes under GitHub secondary rate limits', () => {
  it('a burst of 200 reports in a second, with a 403 retry-after over the cap, costs three writes and ends on the final result', async () => {
    const clock = new FakeClock(t0);
    const log = recordingLog();
    const reporter = paced(github.fake, clock, log);
    github.fake.fail({
      method: 'PATCH',
      status: 403,
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      headers: { 'retry-after': '120' },
      times: 1,
    });
    const start = clock.now();
    for (let i = 0; i < 199; i++) {
      void reporter.update(stageReport(i % 6, 'web', { updatedAt: t0 + i * 5 }));
      await clock.advance(5);
    }
    void reporter.update(stageReport(6));
    await flushOn(clock, reporter);
    // The first at once, the newest after the 10 s interval (refused), the final after retry-after.
    assert.deepEqual(
      writes(github.fake).map((c) => c.split(' ')[0]),
      ['POST', 'PATCH', 'PATCH'],
    );
    assert.equal(github.fake.comments.length, 1);
    assert.match(github.fake.comments[0]?.body ?? '', /succeeded/i);
    assert.ok(clock.now() - start >= 130_000, 'the final write waited out the retry-after');
    assert.ok(
      log.warnings.some((w) => /rate limit asks to wait 120 s .*final result of shop\/web/.test(w)),
      log.warnings.join('\n'),
    );
  });

  it('a ticking age (a report a second for 10 minutes) costs at most 6 writes a minute', async () => {
    const clock = new FakeClock(t0);
    const reporter = paced(github.fake, clock, recordingLog());
    for (let i = 0; i < 600; i++) {
      void reporter.update(ticking(i));
      await clock.advance(1000);
    }
    await flushOn(clock, reporter);
    const count = writes(github.fake).length;
    assert.ok(count <= 61, `${count} writes in 10 minutes`);
    assert.ok(count >= 50, `${count} writes: the comment still follows the rollout`);
    assert.match(
      github.fake.comments[0]?.body ?? '',
      new RegExp(new Date(ticking(599).updatedAt).toISOString()),
    );
  });

  it('does not send a body that differs only by its "Last updated" time', async () => {
    const clock = new FakeClock(t0);
    const reporter = paced(github.fake, clock, recordingLog());
    void reporter.update(stageReport(6));
    void reporter.update(stageReport(6, 'web', { updatedAt: t0 + 600_000 }));
    await flushOn(clock, reporter);
    assert.deepEqual(
      writes(github.fake).map((c) => c.split(' ')[0]),
      ['POST'],
    );
  });
});
