// One comment for a fleet run, against the fake GitHub: 12 StatefulSets in 3 waves across 2
// clusters reporting concurrently cost one sticky comment, never more than one comment write in
// flight, at most 6 writes in any minute (the run's 10 s pacing), and the final body shows every
// member's final verdict. Deployments get one environment per context. Time is a fake clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commentMarker, fleetMarker } from '../../src/adapters/github/comment.ts';
import { createGitHubReporter, type GitHubReporter } from '../../src/adapters/github/reporter.ts';
import type { GitHubSettings } from '../../src/config/settings.ts';
import { type Fleet, memberKey } from '../../src/engine/fleet.ts';
import { actionsBot } from '../support/github/fake-model.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { finalReports, memberReport, twelve } from '../support/github/fleet.ts';
import { fastRetry, flushOn, pullRequestEvent, runContext, settings, t0 } from '../support/github/helpers.ts';
import { FakeClock } from '../support/scripted/fake-clock.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

const members = twelve.waves.flatMap((w) => w.members);
const commentWrites = /^\/repos\/acme\/shop\/issues\/(\d+\/comments|comments\/\d+)$/;

async function withFake(clock: FakeClock, test: (fake: FakeGitHub) => Promise<void>): Promise<void> {
  const fake = await startFakeGitHub({ now: () => clock.now() });
  try {
    await test(fake);
    assert.deepEqual(fake.violations, []);
  } finally {
    await fake.close();
  }
}

function paced(fake: FakeGitHub, clock: FakeClock, overrides: Partial<GitHubSettings> = {}): GitHubReporter {
  const now = () => clock.now();
  return createGitHubReporter({
    settings: settings(fake, overrides),
    run: runContext(fake, 'pull_request', pullRequestEvent),
    log: recordingLog(),
    retry: { ...fastRetry(), now },
    pace: { minIntervalMs: 10_000, sleep: (ms) => clock.sleep(ms), now },
  });
}

/** The most requests matching `path` that arrived within any 60 s of the fake clock. */
function perMinute(fake: FakeGitHub, path: RegExp): number {
  const times = fake.requests.filter((r) => r.method !== 'GET' && path.test(r.path)).map((r) => r.at);
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + 60_000).length));
}

describe('the fleet comment on the pull request', () => {
  it('12 StatefulSets reporting every second for 10 minutes: one comment, one write at a time, at most 6 a minute', async (t) => {
    const clock = new FakeClock(t0);
    await withFake(clock, async (fake) => {
      const reporter = paced(fake, clock);
      reporter.fleet?.(twelve);
      for (let second = 0; second < 600; second++) {
        const step = Math.min(5, Math.floor(second / 100));
        // Interleaved: a different member first each second, none awaited.
        for (let k = 0; k < members.length; k++) {
          const m = members[(second + k) % members.length];
          if (m) void reporter.update(memberReport(m, step, { updatedAt: t0 + second * 1000 + k }));
        }
        await clock.advance(1000);
      }
      const finals = finalReports();
      for (const m of members) void reporter.update(finals.get(memberKey(m)) ?? memberReport(m, 6));
      await flushOn(clock, reporter);
      assert.equal(fake.comments.length, 1, fake.comments.map((c) => c.body.split('\n')[0]).join('\n'));
      const body = fake.comments[0]?.body ?? '';
      assert.equal(body.split('\n')[0], fleetMarker(twelve));
      assert.equal(fake.peakConcurrentWrites(commentWrites), 1);
      const minute = perMinute(fake, commentWrites);
      assert.ok(minute <= 6, `${minute} comment writes in one minute`);
      const count = fake.requests.filter((r) => r.method !== 'GET' && commentWrites.test(r.path)).length;
      assert.ok(count >= 50, `${count} writes in 10 minutes: the comment still follows the rollout`);
      t.diagnostic(
        `${count} comment writes for ${members.length * 600 + members.length} reports; at most ${minute} in a minute`,
      );
      const labels: Record<string, string> = {
        failed: '❌ rollout failed',
        'rolled-back': '↩️ rolled back',
        succeeded: '✅ rollout succeeded',
      };
      for (const m of members) {
        const expected = labels[finals.get(memberKey(m))?.verdict ?? 'succeeded'];
        const line = body.split('\n').find((l) => l.includes(`| \`${m.context}\` | \`shop/${m.name}\` |`));
        assert.ok(line?.endsWith(`| ${expected} |`), `${memberKey(m)}: ${line}`);
      }
    });
  });

  it('a slow GitHub (every write answered late) still sees one comment write at a time', async () => {
    const clock = new FakeClock(t0);
    await withFake(clock, async (fake) => {
      fake.delay({ method: 'PATCH', ms: 50, times: 100 });
      fake.delay({ method: 'POST', ms: 50, times: 100 });
      const reporter = paced(fake, clock);
      reporter.fleet?.(twelve);
      for (const step of [0, 1, 2, 3, 4, 5]) {
        for (const m of members) void reporter.update(memberReport(m, step));
        await clock.advance(10_000);
      }
      for (const m of members) void reporter.update(memberReport(m, 6));
      await flushOn(clock, reporter);
      assert.equal(fake.peakConcurrentWrites(commentWrites), 1);
      assert.equal(fake.comments.length, 1);
      assert.equal((fake.comments[0]?.body.match(/✅ rollout succeeded \|/g) ?? []).length, 12);
    });
  });

  it('shows the members that never started as not rolled out once the run ends', async () => {
    const clock = new FakeClock(t0);
    await withFake(clock, async (fake) => {
      const reporter = paced(fake, clock);
      reporter.fleet?.(twelve);
      for (const report of finalReports().values()) void reporter.update(report);
      await flushOn(clock, reporter);
      const body = fake.comments[0]?.body ?? '';
      assert.match(body, /\| `eu-1` \| `shop\/search` \| — \| ⏹️ not rolled out \|/);
      assert.match(body, /^### ❌ rollout failed: 12 StatefulSets, 3 waves, 2 clusters$/m);
    });
  });

  it('finds its own comment by the first-line marker only: a quoted or pasted marker is left alone', async () => {
    const clock = new FakeClock(t0);
    await withFake(clock, async (fake) => {
      const marker = fleetMarker(twelve);
      const quoted = fake.addComment(7, `> an earlier run said:\n${marker}\n`, actionsBot);
      const pasted = fake.addComment(7, `${marker}\nhello`, { login: 'mallory', id: 7, type: 'User' });
      const first = paced(fake, clock);
      first.fleet?.(twelve);
      for (const report of finalReports().values()) void first.update(report);
      await flushOn(clock, first);
      assert.equal(fake.comments.length, 3, 'a new comment, the others untouched');
      assert.equal(quoted.body, `> an earlier run said:\n${marker}\n`);
      assert.equal(pasted.body, `${marker}\nhello`);
      // A rerun of the same fleet edits that comment.
      const rerun = paced(fake, clock);
      rerun.fleet?.(twelve);
      const [m] = members;
      if (m) void rerun.update(memberReport(m, 2));
      await flushOn(clock, rerun);
      assert.equal(fake.comments.length, 3);
      assert.match(fake.comments[2]?.body ?? '', /🔄 rollout in progress/);
    });
  });

  it('a fleet of one StatefulSet keeps today’s comment', async () => {
    const clock = new FakeClock(t0);
    await withFake(clock, async (fake) => {
      const [m] = members;
      assert.ok(m);
      const one: Fleet = { waves: [{ index: 0, name: 'wave 1', members: [m] }] };
      const reporter = paced(fake, clock);
      reporter.fleet?.(one);
      void reporter.update(memberReport(m, 6));
      await flushOn(clock, reporter);
      assert.equal(fake.comments[0]?.body.split('\n')[0], commentMarker(m.context, m.namespace, m.name));
      assert.equal(fake.comments.length, 1);
    });
  });

  it('gives each StatefulSet of each context its own deployment, in an environment per context, one write at a time', async () => {
    const clock = new FakeClock(t0);
    await withFake(clock, async (fake) => {
      fake.delay({ method: 'POST', path: /deployments/, ms: 20, times: 1000 });
      const reporter = paced(fake, clock, { deploymentEnvironment: 'production' });
      reporter.fleet?.(twelve);
      for (const step of [0, 2, 4]) for (const m of members) void reporter.update(memberReport(m, step));
      for (const m of members) void reporter.update(memberReport(m, 6));
      await flushOn(clock, reporter);
      const environments = fake.deployments.map(
        (d) => `${d.body.environment} ${(d.body.payload as { name: string }).name}`,
      );
      assert.equal(fake.deployments.length, 12);
      assert.equal(new Set(environments).size, 12);
      assert.deepEqual([...new Set(fake.deployments.map((d) => d.body.environment))].sort(), [
        'production/eu-1',
        'production/staging',
      ]);
      assert.ok(fake.deployments.every((d) => d.statuses.at(-1)?.state === 'success'));
      assert.equal(fake.peakConcurrentWrites(/deployments/), 1);
    });
  });
});
