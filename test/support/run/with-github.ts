// Runs the action in-process through the composition root (src/compose.ts), as src/main.ts
// does, with the real GitHub reporting talking to the fake GitHub server (fast retries) and a
// recording log, against the local control plane.

import type { RetryPolicy } from '../../../src/adapters/github/api.ts';
import { readRunContext } from '../../../src/adapters/github/context.ts';
import type { Outcome } from '../../../src/app.ts';
import { composeApp } from '../../../src/compose.ts';
import { composeCommentApp } from '../../../src/compose-comment.ts';
import { readSettings } from '../../../src/config/inputs.ts';
import type { RolloutReport } from '../../../src/engine/report.ts';
import type { TestNamespace } from '../../cluster/harness.ts';
import type { FakeGitHub } from '../github/fake-server.ts';
import { fastRetry, noPace } from '../github/helpers.ts';
import { type RecordingLog, recordingLog } from '../scripted/recording-log.ts';
import { githubEnv } from './bundle.ts';

export interface GitHubRun {
  readonly outcome: Outcome;
  readonly log: RecordingLog;
  /** Every report the runner handed to the reporter (one per transition). */
  readonly reports: RolloutReport[];
  /** The pull request the wiring resolved and the runner recorded. */
  readonly pullRequest: number | undefined;
  /** The fake's requests made by this run, as "METHOD /path". */
  readonly calls: string[];
}

export interface GitHubRunOptions {
  readonly event: string;
  readonly payload: unknown;
  readonly inputs: Readonly<Record<string, string>>;
  /** Extra GITHUB_* variables, e.g. another GITHUB_SHA. */
  readonly env?: Readonly<Record<string, string>>;
  /** Cancels the run, as SIGINT does in the action. */
  readonly signal?: AbortSignal;
  /** Sees every report as the runner hands it out. */
  readonly onReport?: (report: RolloutReport) => void;
  /** GitHub retry timing (default: fast retries). */
  readonly retry?: Partial<RetryPolicy>;
}

export async function runWithGitHub(
  ns: TestNamespace,
  fake: FakeGitHub,
  options: GitHubRunOptions,
): Promise<GitHubRun> {
  const firstRequest = fake.requests.length;
  const inputs: Record<string, string> = { 'github-token': fake.token, ...options.inputs };
  const settings = readSettings((name) => inputs[name] ?? '');
  const log = recordingLog();
  const reports: RolloutReport[] = [];
  // As src/main.ts chooses: comment commands have their own composition.
  const compose = settings.command === 'comment' ? composeCommentApp : composeApp;
  const app = await compose({
    settings,
    kube: { kubeConfig: ns.kubeConfig, contextName: 'local', defaultNamespace: ns.name },
    log,
    origin: {
      kind: 'github',
      run: readRunContext(githubEnv(fake.url, options.event, options.payload, options.env)),
      jobSummary: false,
      retry: options.retry ?? fastRetry(),
      pace: noPace,
    },
    observer: {
      update: async (report) => {
        reports.push(report);
        options.onReport?.(report);
      },
    },
  });
  const outcome = await app.run(options.signal ?? new AbortController().signal);
  return {
    outcome,
    log,
    reports,
    pullRequest: 'pullRequest' in app ? (app.pullRequest as number | undefined) : undefined,
    calls: fake.requests.slice(firstRequest).map((r) => `${r.method} ${r.path}`),
  };
}
