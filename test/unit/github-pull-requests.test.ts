// Which pull requests a run reports on, as GitHub really answers: the commit-to-pull-request
// association lags a merge by a moment, a push can carry several merged pull requests (a merge
// queue's batch, or a run that replaced a pending one), merge_group and issue_comment payloads
// have no `pull_request`, and pull_request_target runs with the base repository's secrets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commentMarker } from '../../src/adapters/github/comment.ts';
import type { GitHubRunContext } from '../../src/adapters/github/context.ts';
import { emptyAnswerWaitsMs, maxCommits } from '../../src/adapters/github/push-pulls.ts';
import { createGitHubReporter } from '../../src/adapters/github/reporter.ts';
import { githubReporting } from '../../src/adapters/github/wiring.ts';
import type { Settings } from '../../src/config/settings.ts';
import type { FakeGitHub } from '../support/github/fake-server.ts';
import {
  fastRetry,
  noPace,
  runContext,
  settings,
  stageReport,
  useFakeGitHub,
} from '../support/github/helpers.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

/** A 40-hex commit id named after `n`. */
const commit = (n: number) => n.toString(16).padStart(40, 'c');
const head = commit(0xfff);

const merged = (number: number, at: string, base = 'main') => ({
  number,
  merged_at: `2025-06-01T${at}:00Z`,
  base: { ref: base },
});

/** A linear history `shas[0] <- shas[1] <- ...` in the fake's commit graph. */
function history(fake: FakeGitHub, shas: readonly string[]): void {
  shas.forEach((sha, i) => {
    fake.commitParents.set(sha, i === 0 ? [] : [shas[i - 1] ?? '']);
  });
}

const pushOf = (fake: FakeGitHub, before?: string): GitHubRunContext =>
  runContext(
    fake,
    'push',
    { ref: 'refs/heads/main', after: head, ...(before ? { before } : {}) },
    { GITHUB_SHA: head },
  );

async function commentedOn(
  fake: FakeGitHub,
  run: GitHubRunContext,
  options: { recordedCommits?: string[]; sleep?: (ms: number) => Promise<void> } = {},
) {
  const log = recordingLog();
  const sleeps: number[] = [];
  const reporter = createGitHubReporter({
    settings: settings(fake),
    run,
    log,
    ...(options.recordedCommits ? { recordedCommits: options.recordedCommits } : {}),
    pace: noPace,
    retry: {
      ...fastRetry(sleeps),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    },
  });
  const recorded = await reporter.pullRequest();
  await reporter.update(stageReport(0));
  await reporter.flush();
  return { issues: fake.comments.map((c) => c.issue), recorded, log, sleeps };
}

const lookups = (fake: FakeGitHub) => fake.calls().filter((c) => /\/commits\/\w+\/pulls$/.test(c));

describe('the pull requests of a push', () => {
  const github = useFakeGitHub();

  it('are asked for again, briefly, while GitHub has not associated the merge yet', async () => {
    const waits: number[] = [];
    const { issues } = await commentedOn(github.fake, pushOf(github.fake), {
      sleep: async (ms) => {
        waits.push(ms);
        // The association appears after the second wait.
        if (waits.length === 2) github.fake.commitPulls.set(head, [merged(5, '10:00')]);
      },
    });
    assert.deepEqual(issues, [5]);
    assert.deepEqual(waits, emptyAnswerWaitsMs.slice(0, 2));
    assert.equal(lookups(github.fake).length, 3);
  });

  it('are none, with a notice, after a few short waits', async () => {
    const waits: number[] = [];
    const { issues, log } = await commentedOn(github.fake, pushOf(github.fake), {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    assert.deepEqual(issues, []);
    assert.deepEqual(waits, [...emptyAnswerWaitsMs]);
    assert.ok(waits.reduce((a, b) => a + b, 0) <= 10_000, 'a push without a pull request is not held long');
    assert.equal(lookups(github.fake).length, emptyAnswerWaitsMs.length + 1);
    assert.match(log.notices[0] ?? '', /No pull request to comment on: no pull request merged into main/);
  });

  it('are every pull request of a merge queue’s batch, each with its comment', async () => {
    const [base, a, b] = [commit(1), commit(2), commit(3)];
    history(github.fake, [base, a, b, head]);
    github.fake.commitPulls.set(a, [merged(21, '10:00')]);
    github.fake.commitPulls.set(b, [merged(22, '10:01')]);
    github.fake.commitPulls.set(head, [merged(23, '10:02'), merged(40, '09:00', 'release')]);
    const { issues, recorded } = await commentedOn(github.fake, pushOf(github.fake, base));
    assert.deepEqual(issues, [23, 22, 21]);
    assert.equal(recorded, 23, 'the StatefulSet records the latest merge');
    const marker = commentMarker('kind-dev', 'shop', 'web');
    assert.ok(github.fake.comments.every((c) => c.body.startsWith(marker)));
    assert.ok(github.fake.calls().includes(`GET /repos/acme/shop/compare/${base}...${head}`));
  });

  it('include those of a run this one replaced: every commit since the one the StatefulSet recorded', async () => {
    // Run 1 rolled out `recorded`; run 2 (pushing `replaced`) was pending and replaced by this run.
    const [recorded, replaced] = [commit(1), commit(2)];
    history(github.fake, [recorded, replaced, head]);
    github.fake.commitPulls.set(replaced, [merged(32, '10:00')]);
    github.fake.commitPulls.set(head, [merged(33, '10:05')]);
    const { issues } = await commentedOn(github.fake, pushOf(github.fake, replaced), {
      recordedCommits: [recorded],
    });
    assert.deepEqual(issues, [33, 32]);
  });

  it('follow the branch’s first parents, not the commits a merge brought in', async () => {
    // main: base <- m (merge of feature f1 <- f2) <- head
    const [base, f1, f2, m] = [commit(1), commit(2), commit(3), commit(4)];
    github.fake.commitParents.set(base, []);
    github.fake.commitParents.set(f1, [base]);
    github.fake.commitParents.set(f2, [f1]);
    github.fake.commitParents.set(m, [base, f2]);
    github.fake.commitParents.set(head, [m]);
    github.fake.commitPulls.set(m, [merged(51, '10:00')]);
    github.fake.commitPulls.set(head, [merged(52, '10:01')]);
    const { issues } = await commentedOn(github.fake, pushOf(github.fake, base));
    assert.deepEqual(issues, [52, 51]);
    assert.deepEqual(
      lookups(github.fake).map((c) => c.split('/')[5]),
      [head, m],
    );
  });

  it('are looked up on the head commit alone when GitHub cannot compare', async () => {
    github.fake.commitPulls.set(head, [merged(61, '10:00')]);
    // The base is unknown to the fake: 404, as GitHub answers for a commit it does not have.
    const { issues, log } = await commentedOn(github.fake, pushOf(github.fake, commit(1)));
    assert.deepEqual(issues, [61]);
    assert.ok(log.lines.some((l) => /debug: Finding the pull requests: cannot compare/.test(l)));
    assert.deepEqual(log.warnings, []);
  });

  it(`ask about the ${maxCommits} newest commits at most, and say so`, async () => {
    const shas = [...Array.from({ length: 30 }, (_, i) => commit(i + 1)), head];
    history(github.fake, shas);
    for (const [i, sha] of shas.entries())
      github.fake.commitPulls.set(sha, [merged(100 + i, `10:${String(i).padStart(2, '0')}`)]);
    const { issues, log } = await commentedOn(github.fake, pushOf(github.fake, shas[0]));
    assert.equal(lookups(github.fake).length, maxCommits);
    assert.deepEqual(
      issues,
      shas.slice(-maxCommits).map((_, i) => 130 - i),
    );
    assert.ok(
      log.lines.includes(`debug: Finding the pull requests: ${30 - maxCommits} older commits not looked up.`),
      log.lines.join('\n'),
    );
  });
});

describe('the pull request of other events', () => {
  const github = useFakeGitHub();

  it('is the newest pull request of a merge_group, named by the queue’s branch', async () => {
    const run = runContext(github.fake, 'merge_group', {
      action: 'checks_requested',
      merge_group: {
        head_sha: head,
        head_ref: `refs/heads/gh-readonly-queue/main/pr-57-${commit(2)}`,
        base_ref: 'refs/heads/main',
      },
    });
    const { issues } = await commentedOn(github.fake, run);
    assert.deepEqual(issues, [57]);
    assert.deepEqual(lookups(github.fake), [], 'no lookup: the payload names it');
  });

  it('is none, with a notice, for a merge_group whose branch names none', async () => {
    const run = runContext(github.fake, 'merge_group', { merge_group: { head_ref: 'refs/heads/other' } });
    const { issues, log } = await commentedOn(github.fake, run);
    assert.deepEqual(issues, []);
    assert.match(log.notices[0] ?? '', /merge_group payload names no pull request/);
  });

  it('is the pull request an issue_comment was written on', async () => {
    const run = runContext(github.fake, 'issue_comment', {
      action: 'created',
      issue: { number: 44, pull_request: { url: 'https://api.github.com/repos/acme/shop/pulls/44' } },
      comment: { body: '/deploy' },
    });
    assert.deepEqual((await commentedOn(github.fake, run)).issues, [44]);
  });

  it('is none, with a notice, for an issue_comment on an issue', async () => {
    const run = runContext(github.fake, 'issue_comment', { issue: { number: 45 } });
    const { issues, log } = await commentedOn(github.fake, run);
    assert.deepEqual(issues, []);
    assert.match(log.notices[0] ?? '', /on an issue, not on a pull request/);
  });

  it('is that of a pull_request_target run, with a warning about rolling out from it', async () => {
    const log = recordingLog();
    const reporting = await githubReporting({
      settings: {
        command: 'rollout',
        manifests: [],
        github: settings(github.fake),
      } as Partial<Settings> as Settings,
      run: runContext(github.fake, 'pull_request_target', { number: 31, pull_request: { number: 31 } }),
      log,
      cluster: { observe: async () => undefined },
      defaultNamespace: 'shop',
      retry: fastRetry(),
    });
    assert.equal(reporting.pullRequest, 31);
    assert.equal(log.warnings.length, 2);
    assert.match(log.warnings[0] ?? '', /pull_request_target run: it has the base repository’s secrets/);
    // No deployment-environment: nothing says the job runs in an environment.
    assert.match(log.warnings[1] ?? '', /command rollout changes the cluster on a pull_request_target run/);
  });
});
