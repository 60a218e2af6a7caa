// Runs the bundled action the way a GitHub Actions runner does: `node dist/index.js` with one
// INPUT_* variable per input declared in action.yml (defaults filled in, as the runner does),
// GITHUB_* context variables, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files it reads back.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { repoRoot } from '../../cluster/control-plane/state.ts';

interface ActionYaml {
  readonly inputs: Record<string, { readonly default?: string }>;
}

// The runner evaluates this expression in the github-token default; the test supplies the token.
const githubTokenExpression = ['$', '{{ github.token }}'].join('');

export function actionInputs(): ActionYaml['inputs'] {
  return (load(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as ActionYaml).inputs;
}

/**
 * INPUT_* variables for every declared input: `inputs` where given, else the action.yml
 * default with `${{ github.token }}` replaced by `token`. The runner uppercases the name and
 * turns spaces (not hyphens) into underscores, as @actions/core's getInput expects.
 */
export function inputEnv(inputs: Readonly<Record<string, string>>, token: string): Record<string, string> {
  const declared = actionInputs();
  for (const name of Object.keys(inputs)) {
    if (!(name in declared)) throw new Error(`input ${name} is not declared in action.yml`);
  }
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const value = inputs[name] ?? (spec.default ?? '').replace(githubTokenExpression, token);
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  return env;
}

/** Parses a GITHUB_OUTPUT file: `name<<delimiter\nvalue\ndelimiter` entries (and `name=value`). */
export function parseCommandFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc?.[1] !== undefined && heredoc[2] !== undefined) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end < 0) throw new Error(`unterminated value for ${heredoc[1]} in the command file`);
      values.set(heredoc[1], lines.slice(i + 1, end).join('\n'));
      i = end;
    } else if (line.includes('=')) {
      values.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1));
    }
  }
  return values;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the process closed. */
  readonly at: number;
}

export interface BundleProcess {
  readonly child: ChildProcess;
  /** The runner's temp dir for this step (RUNNER_TEMP, also TMPDIR), with the output and summary files. */
  readonly dir: string;
  stdout(): string;
  stderr(): string;
  outputs(): Map<string, string>;
  summary(): string;
  readonly exited: Promise<Exit>;
}

/**
 * Starts `node dist/index.js` with only `env` plus PATH and HOME (nothing of this process's own
 * GITHUB_* or INPUT_* variables leaks in, also when the tests run inside GitHub Actions), and
 * hands back the child so a test can also signal it mid-run.
 */
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

export interface BundleRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Map<string, string>;
  readonly summary: string;
  readonly ms: number;
}

/** Runs `node dist/index.js` to its end (see startBundle). */
export async function runBundle(env: Readonly<Record<string, string>>): Promise<BundleRun> {
  const started = Date.now();
  const step = startBundle(env);
  const { code } = await step.exited;
  return {
    code,
    stdout: step.stdout(),
    stderr: step.stderr(),
    outputs: step.outputs(),
    summary: step.summary(),
    ms: Date.now() - started,
  };
}

/** Writes `payload` as an event file and returns the GITHUB_* variables of a run of `event`. */
export function githubEnv(
  apiUrl: string,
  event: string,
  payload: unknown,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'sts-canary-event-'));
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(payload));
  return {
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: apiUrl,
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKSPACE: repoRoot,
    ...overrides,
  };
}

/** A push of `sha` to main whose commit came from merged pull request `number`. */
export function mergedPull(number: number, sha: string): Record<string, unknown> {
  return {
    number,
    state: 'closed',
    merged_at: '2025-06-01T12:00:00Z',
    merge_commit_sha: sha,
    base: { ref: 'main' },
    head: { ref: `feature-${number}` },
  };
}

export const pushEvent = (sha: string) => ({
  ref: 'refs/heads/main',
  after: sha,
  repository: { full_name: 'acme/shop', default_branch: 'main' },
});
