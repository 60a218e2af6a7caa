// Starts the bundled action (`node dist/index.js`) as a runner does, but hands back the child
// process so a test can signal it mid-run (a cancelled workflow run sends SIGINT, then SIGTERM).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../cluster/state.ts';
import { parseCommandFile } from '../integration/runner-env.ts';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the process closed. */
  readonly at: number;
}

export interface BundleProcess {
  readonly child: ChildProcess;
  /** The runner's temp dir for this step (RUNNER_TEMP), with the output and summary files. */
  readonly dir: string;
  stdout(): string;
  stderr(): string;
  outputs(): Map<string, string>;
  summary(): string;
  readonly exited: Promise<Exit>;
}

/** Only `env` plus PATH and HOME reach the child: none of this process's own GITHUB_ or INPUT_ variables. */
export function startBundle(env: Readonly<Record<string, string>>): BundleProcess {
  const dir = mkdtempSync(join(tmpdir(), 'sts-canary-step-'));
  const output = join(dir, 'output');
  const summary = join(dir, 'summary.md');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const child = spawn(process.execPath, [join(repoRoot, 'dist/index.js')], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      RUNNER_TEMP: dir,
      TMPDIR: dir,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_ACTIONS: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  return {
    child,
    dir,
    stdout: () => stdout,
    stderr: () => stderr,
    outputs: () => parseCommandFile(readFileSync(output, 'utf8')),
    summary: () => readFileSync(summary, 'utf8'),
    exited,
  };
}
