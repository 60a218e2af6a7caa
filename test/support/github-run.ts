// Runs the action in-process the way src/main.ts wires it, but with the real GitHub reporting
// talking to the fake GitHub server (fast retries) and a recording log, against the local
// control plane.

import { readRunContext } from '../../src/adapters/github/context.ts';
import { githubReporting } from '../../src/adapters/github/wiring.ts';
import { createCluster } from '../../src/adapters/kubernetes/cluster.ts';
import { createLock } from '../../src/adapters/kubernetes/lock.ts';
import { skipNoChange } from '../../src/adapters/reporters.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { execute, type Outcome } from '../../src/app.ts';
import { readSettings } from '../../src/config/inputs.ts';
import type { RolloutReport } from '../../src/engine/report.ts';
import type { TestNamespace } from '../cluster/harness.ts';
import type { FakeGitHub } from './github/fake-server.ts';
import { fastRetry, type RecordingLog, recordingLog } from './github/helpers.ts';
import { githubEnv } from './runner-env.ts';

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
  const run = readRunContext(githubEnv(fake.url, options.event, options.payload, options.env));
  const cluster = createCluster({ kubeConfig: ns.kubeConfig, fieldManager: settings.fieldManager });
  const github = await githubReporting({
    settings,
    run,
    log,
    cluster,
    defaultNamespace: ns.name,
    retry: fastRetry(),
  });
  const reports: RolloutReport[] = [];
  const outcome = await execute(
    settings,
    {
      cluster,
      lock: createLock(ns.kubeConfig, {}),
      clock: systemClock,
      log,
      // As src/main.ts wires it: runs that change nothing leave GitHub alone.
      reporterFor: () => ({
        update: (report) => {
          reports.push(report);
          return skipNoChange(github.reporter).update(report);
        },
      }),
      defaultNamespace: ns.name,
      cwd: process.cwd(),
    },
    { contextName: 'local', runUrl: run.runUrl, commit: run.sha, pullRequest: github.pullRequest },
    new AbortController().signal,
  );
  await github.flush();
  return {
    outcome,
    log,
    reports,
    pullRequest: github.pullRequest,
    calls: fake.requests.slice(firstRequest).map((r) => `${r.method} ${r.path}`),
  };
}
