import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRunContext } from '../../src/adapters/github/context.ts';
import { runOf } from '../../src/adapters/github/pull-request.ts';
import {
  eventFile,
  pullRequestEvent,
  reporterFor,
  runContext,
  stageReport,
  useFakeGitHub,
} from '../support/github/helpers.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

const sha = '0123456789abcdef0123456789abcdef01234567';

describe('the run context', () => {
  it('is read from the environment when asked, with the run URL', () => {
    const run = readRunContext({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventFile({ ref: 'refs/heads/main' }),
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_SHA: sha,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SERVER_URL: 'https://ghe.example/',
      GITHUB_API_URL: 'https://ghe.example/api/v3/',
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_ATTEMPT: '2',
    });
    assert.deepEqual(run.repository, { owner: 'acme', repo: 'shop' });
    assert.equal(run.apiUrl, 'https://ghe.example/api/v3');
    assert.equal(run.runUrl, 'https://ghe.example/acme/shop/actions/runs/42/attempts/2');
    assert.deepEqual(run.payload, { ref: 'refs/heads/main' });
    assert.deepEqual(run.problems, []);
  });

  it('names an unreadable event file as a problem instead of throwing', () => {
    const run = readRunContext({
      GITHUB_EVENT_PATH: '/nonexistent/event.json',
      GITHUB_REPOSITORY: 'not a repo',
    });
    assert.deepEqual(run.payload, {});
    assert.equal(run.repository, undefined);
    assert.equal(run.runUrl, undefined);
    assert.equal(run.problems.length, 2);
    assert.match(run.problems[0] ?? '', /GITHUB_REPOSITORY="not a repo"/);
    assert.match(run.problems[1] ?? '', /\/nonexistent\/event\.json/);
  });

  it('defaults to github.com outside Actions', () => {
    const run = readRunContext({});
    assert.equal(run.apiUrl, 'https://api.github.com');
    assert.equal(run.serverUrl, 'https://github.com');
  });
});

describe('which pull request gets the comment', () => {
  const github = useFakeGitHub();

  async function commentedOn(options: Parameters<typeof reporterFor>[1]): Promise<number[]> {
    const reporter = reporterFor(github.fake, options);
    await reporter.update(stageReport(0));
    await reporter.flush();
    return github.fake.comments.map((c) => c.issue);
  }

  it('is the pull request of a pull_request event', async () => {
    assert.deepEqual(
      await commentedOn({ run: runContext(github.fake, 'pull_request', pullRequestEvent) }),
      [7],
    );
  });

  it('is the pull request of a pull_request_target event', async () => {
    const payload = { action: 'synchronize', number: 31, pull_request: { number: 31 } };
    assert.deepEqual(
      await commentedOn({ run: runContext(github.fake, 'pull_request_target', payload) }),
      [31],
    );
  });

  it('is the pull request merged into the pushed branch on push', async () => {
    github.fake.commitPulls.set(sha, [
      { number: 3, merged_at: null, base: { ref: 'main' } },
      { number: 5, merged_at: '2025-06-01T10:00:00Z', base: { ref: 'release' } },
      { number: 9, merged_at: '2025-06-01T11:00:00Z', base: { ref: 'main' } },
    ]);
    const run = runContext(github.fake, 'push', { ref: 'refs/heads/main', after: sha });
    assert.deepEqual(await commentedOn({ run }), [9]);
    assert.ok(github.fake.calls().includes(`GET /repos/acme/shop/commits/${sha}/pulls`));
  });

  it('is none, with a notice, when a push has no merged pull request', async () => {
    github.fake.commitPulls.set(sha, [{ number: 3, merged_at: null, base: { ref: 'main' } }]);
    const log = recordingLog();
    assert.deepEqual(await commentedOn({ run: runContext(github.fake, 'push', {}), log }), []);
    assert.match(
      log.notices[0] ?? '',
      /No pull request to comment on: no pull request merged into main .*`pull-request` input/,
    );
    assert.deepEqual(log.warnings, []);
  });

  it('is the one recorded on the StatefulSet for workflow_dispatch', async () => {
    const run = runContext(github.fake, 'workflow_dispatch', { inputs: { statefulset: 'web' } });
    assert.deepEqual(await commentedOn({ run, recordedPullRequest: 12 }), [12]);
  });

  it('is the pull-request input above everything else', async () => {
    const run = runContext(github.fake, 'workflow_dispatch', {});
    assert.deepEqual(
      await commentedOn({ run, recordedPullRequest: 12, settings: { pullRequest: 15 } }),
      [15],
    );
  });

  it('is the pull-request input even on a pull_request event', async () => {
    assert.deepEqual(await commentedOn({ settings: { pullRequest: 15 } }), [15]);
  });

  it('is none, with a notice, for workflow_dispatch with nothing recorded', async () => {
    const log = recordingLog();
    const reporter = reporterFor(github.fake, { run: runContext(github.fake, 'workflow_dispatch', {}), log });
    assert.equal(await reporter.pullRequest(), undefined);
    await reporter.update(stageReport(0));
    await reporter.flush();
    assert.deepEqual(github.fake.calls(), []);
    assert.equal(log.notices.length, 1);
  });
});

describe('words about a run', () => {
  for (const [event, words] of [
    ['push', 'a push run'],
    ['issue_comment', 'an issue_comment run'],
    ['workflow_dispatch', 'a workflow_dispatch run'],
    [undefined, 'a run of an unknown event'],
  ] as const) {
    it(`calls a ${event ?? 'nameless'} run "${words}"`, () => {
      assert.equal(runOf(event), words);
    });
  }
});
