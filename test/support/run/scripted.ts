// One run of the app (src/app.ts `execute`) on in-memory ports: a ScriptedCluster, a
// MemoryLock and a FakeClock, with the recording log and a recording reporter. The manifest is a real file
// (execute loads manifests from files), written once per run to a temporary directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execute, type Outcome } from '../../../src/app.ts';
import { readSettings } from '../../../src/config/inputs.ts';
import type { RolloutReport } from '../../../src/engine/report.ts';
import type { HttpClient } from '../../../src/ports/http.ts';
import type { FakeClock } from '../scripted/fake-clock.ts';
import { MemoryLock } from '../scripted/memory-lock.ts';
import { manifest, NAMESPACE } from '../scripted/observations.ts';
import { type RecordingLog, recordingLog } from '../scripted/recording-log.ts';
import type { ScriptedCluster } from '../scripted/scripted-cluster.ts';

export interface ScriptedRun {
  /** Resolves when execute returns. */
  readonly outcome: Promise<Outcome>;
  readonly log: RecordingLog;
  readonly reports: RolloutReport[];
  readonly lock: MemoryLock;
  /** Cancels the run, as SIGTERM or a cancelled workflow does. */
  cancel(): void;
}

export interface RunOptions {
  readonly cluster: ScriptedCluster;
  readonly clock: FakeClock;
  /** Image of the manifest's only container. */
  readonly image: string;
  readonly replicas: number;
  /** Action inputs over the defaults: rollout, steps 1, 50%, 100%, soak 2s, stage-timeout 1m, on-failure rollback. */
  readonly inputs?: Record<string, string>;
  readonly lock?: MemoryLock;
  /** For analysis checks that reach a URL or Prometheus. */
  readonly http?: HttpClient;
}

let directory: string | undefined;

function manifestFile(image: string, replicas: number): string {
  if (directory === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'sts-canary-unit-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    directory = dir;
  }
  const path = join(directory, `web-${image.replace(/\W/g, '_')}-${replicas}.yaml`);
  // JSON is YAML.
  writeFileSync(path, JSON.stringify(manifest(image, replicas)));
  return path;
}

export function startRun(options: RunOptions): ScriptedRun {
  const reports: RolloutReport[] = [];
  const lock = options.lock ?? new MemoryLock();
  const settings = readSettings((name) => {
    const inputs: Record<string, string> = {
      command: 'rollout',
      manifests: manifestFile(options.image, options.replicas),
      steps: '1, 50%, 100%',
      soak: '2s',
      'stage-timeout': '1m',
      'on-failure': 'rollback',
      ...options.inputs,
    };
    return inputs[name] ?? '';
  });
  const log = recordingLog();
  const cancel = new AbortController();
  const deps = {
    cluster: options.cluster,
    lock,
    clock: options.clock,
    log,
    reporter: {
      update: async (report: RolloutReport) => {
        reports.push(report);
      },
    },
    defaultNamespace: NAMESPACE,
    cwd: process.cwd(),
    ...(options.http ? { http: options.http } : {}),
  };
  const run = {
    contextName: 'unit',
    runUrl: 'https://github.com/o/r/actions/runs/1',
    commit: 'abc123',
    pullRequest: 7,
  };
  return {
    outcome: execute(settings, deps, run, cancel.signal),
    log,
    reports,
    lock,
    cancel: () => cancel.abort(),
  };
}
