// Shared pieces of the GitHub reporter tests: report literals for each stage of a rollout,
// event files, and a reporter wired to the fake server (with a recording log) and fast retries.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { type GitHubRunContext, readRunContext } from '../../../src/adapters/github/context.ts';
import { createGitHubReporter, type GitHubReporter } from '../../../src/adapters/github/reporter.ts';
import type { GitHubSettings } from '../../../src/config/settings.ts';
import type { RolloutReport, StageReport } from '../../../src/engine/report.ts';
import type { Log } from '../../../src/ports/log.ts';
import type { FakeClock } from '../scripted/fake-clock.ts';
import { recordingLog } from '../scripted/recording-log.ts';
import { type FakeGitHub, startFakeGitHub } from './fake-server.ts';

export const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);

const plan: ReadonlyArray<{ partition: number; ordinals: number[] }> = [
  { partition: 4, ordinals: [4] },
  { partition: 2, ordinals: [2, 3] },
  { partition: 0, ordinals: [0, 1] },
];

/**
 * The report of a 5-replica rollout of `name` after `step` transitions: 0 = canary
 * progressing, 1 = canary soaking, 2 = stage 2 progressing, ... 6 = succeeded.
 */
export function stageReport(
  step: number,
  name = 'web',
  overrides: Partial<RolloutReport> = {},
): RolloutReport {
  const stages: StageReport[] = plan.map((p, i) => {
    const begun = step >= i * 2;
    const done = step >= i * 2 + 2;
    const state = done ? 'passed' : !begun ? 'pending' : step === i * 2 ? 'progressing' : 'soaking';
    const updated = plan
      .slice(0, done || state === 'soaking' ? i + 1 : i)
      .reduce((n, s) => n + s.ordinals.length, 0);
    return {
      stage: i + 1,
      partition: p.partition,
      ordinals: p.ordinals,
      updated,
      state,
      startedAt: begun ? t0 + i * 60_000 : undefined,
      endedAt: done ? t0 + (i + 1) * 60_000 : undefined,
    };
  });
  return {
    kind: 'rollout',
    context: 'kind-dev',
    namespace: 'shop',
    name,
    verdict: step >= 6 ? 'succeeded' : 'in-progress',
    replicas: 5,
    previousRevision: `${name}-5c6d7e8f9`,
    revision: `${name}-7f8e9a0b1`,
    images: [{ container: 'app', from: 'registry.local/app:1.0', to: 'registry.local/app:1.1' }],
    stages,
    failure: undefined,
    rollback: undefined,
    runUrl: 'https://github.com/acme/shop/actions/runs/42/attempts/1',
    startedAt: t0,
    updatedAt: t0 + step * 30_000,
    ...overrides,
  };
}

/** Writes `payload` to a temporary event file and returns its path. */
export function eventFile(payload: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'github-event-'));
  const path = join(dir, 'event.json');
  writeFileSync(path, JSON.stringify(payload));
  return path;
}

/** A run context as GitHub Actions would set it, for `event` with `payload`, talking to `fake`. */
export function runContext(
  fake: FakeGitHub,
  event: string,
  payload: unknown,
  env: Record<string, string> = {},
): GitHubRunContext {
  return readRunContext({
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: eventFile(payload),
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: fake.url,
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    ...env,
  });
}

export const pullRequestEvent = { action: 'opened', number: 7, pull_request: { number: 7 } };

export function settings(fake: FakeGitHub, overrides: Partial<GitHubSettings> = {}): GitHubSettings {
  return {
    token: fake.token,
    comment: true,
    pullRequest: undefined,
    deploymentEnvironment: undefined,
    ...overrides,
  };
}

/** Retries that do not wait; `sleeps` records every wait the policy asked for. */
export function fastRetry(sleeps: number[] = []) {
  return {
    minTimeoutMs: 1,
    requestTimeoutMs: 5_000,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  };
}

/** Comment writes that do not wait their turn (the pacing has its own test). */
export const noPace = { minIntervalMs: 0, sleep: async (_ms: number) => {} };

export function reporterFor(
  fake: FakeGitHub,
  options: {
    log?: Log;
    settings?: Partial<GitHubSettings>;
    run?: GitHubRunContext;
    recordedPullRequest?: number;
    sleeps?: number[];
  } = {},
): GitHubReporter {
  return createGitHubReporter({
    settings: settings(fake, options.settings),
    run: options.run ?? runContext(fake, 'pull_request', pullRequestEvent),
    log: options.log ?? recordingLog(),
    ...(options.recordedPullRequest === undefined
      ? {}
      : { recordedPullRequest: options.recordedPullRequest }),
    retry: fastRetry(options.sleeps),
    pace: noPace,
  });
}

/**
 * A fresh fake GitHub for each test of the enclosing describe, closed after it; a request
 * that broke GitHub's published contract fails the test. Use `github.fake` inside the tests.
 */
export function useFakeGitHub(): { readonly fake: FakeGitHub } {
  let current: FakeGitHub | undefined;
  beforeEach(async () => {
    current = await startFakeGitHub();
  });
  afterEach(async () => {
    await current?.close();
    assert.deepEqual(current?.violations, []);
  });
  return {
    get fake(): FakeGitHub {
      if (!current) throw new Error('useFakeGitHub: the fake GitHub exists only inside a test');
      return current;
    },
  };
}

/** Drives the fake clock from one sleep to the next until every report is published. */
export async function flushOn(clock: FakeClock, reporter: GitHubReporter): Promise<void> {
  let done = false;
  const flushed = reporter.flush().then(() => {
    done = true;
  });
  while (!done) {
    const next = clock.pending()[0];
    if (next !== undefined) await clock.advanceTo(next);
    else await Promise.race([clock.nextSleep(), flushed]);
  }
}
