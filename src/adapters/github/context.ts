// The GitHub Actions run this process belongs to, read from the environment when asked.
// @actions/github's `context` reads the environment once, at import time; tests (and a CLI
// that sets variables late) need it read at call time, so this module does not use it.
import { readFileSync } from 'node:fs';

export interface Repository {
  readonly owner: string;
  readonly repo: string;
}

export interface GitHubRunContext {
  /** GITHUB_EVENT_NAME, e.g. `push`, `pull_request`, `workflow_dispatch`. */
  readonly eventName: string | undefined;
  /** The event payload from GITHUB_EVENT_PATH; `{}` when absent or unreadable. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** GITHUB_REPOSITORY split; undefined outside Actions. */
  readonly repository: Repository | undefined;
  readonly sha: string | undefined;
  /** GITHUB_REF, e.g. `refs/heads/main`. */
  readonly ref: string | undefined;
  readonly serverUrl: string;
  /** REST base URL (GITHUB_API_URL), e.g. `https://api.github.com` or `https://ghe.example/api/v3`. */
  readonly apiUrl: string;
  readonly runId: string | undefined;
  readonly runAttempt: string | undefined;
  /** Link to this workflow run (and attempt); undefined outside Actions. */
  readonly runUrl: string | undefined;
  /** Why parts of the context are missing (e.g. an unreadable event file), for a warning. */
  readonly problems: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function readPayload(path: string | undefined, problems: string[]): Record<string, unknown> {
  if (path === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
    problems.push(`the event payload in GITHUB_EVENT_PATH=${path} is not a JSON object`);
  } catch (error) {
    problems.push(`cannot read the event payload GITHUB_EVENT_PATH=${path}: ${(error as Error).message}`);
  }
  return {};
}

function parseRepository(value: string | undefined, problems: string[]): Repository | undefined {
  if (value === undefined) return undefined;
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(value);
  if (match?.[1] === undefined || match[2] === undefined) {
    problems.push(`GITHUB_REPOSITORY=${JSON.stringify(value)} is not "owner/repo"`);
    return undefined;
  }
  return { owner: match[1], repo: match[2] };
}

/** Builds the run context from `env` (default: process.env), reading the event file now. */
export function readRunContext(env: Env = process.env): GitHubRunContext {
  const problems: string[] = [];
  const repository = parseRepository(nonEmpty(env.GITHUB_REPOSITORY), problems);
  const serverUrl = (nonEmpty(env.GITHUB_SERVER_URL) ?? 'https://github.com').replace(/\/+$/, '');
  const apiUrl = (nonEmpty(env.GITHUB_API_URL) ?? 'https://api.github.com').replace(/\/+$/, '');
  const runId = nonEmpty(env.GITHUB_RUN_ID);
  const runAttempt = nonEmpty(env.GITHUB_RUN_ATTEMPT);
  const runUrl =
    repository === undefined || runId === undefined
      ? undefined
      : `${serverUrl}/${repository.owner}/${repository.repo}/actions/runs/${runId}${runAttempt === undefined ? '' : `/attempts/${runAttempt}`}`;
  return {
    eventName: nonEmpty(env.GITHUB_EVENT_NAME),
    payload: readPayload(nonEmpty(env.GITHUB_EVENT_PATH), problems),
    repository,
    sha: nonEmpty(env.GITHUB_SHA),
    ref: nonEmpty(env.GITHUB_REF),
    serverUrl,
    apiUrl,
    runId,
    runAttempt,
    runUrl,
    problems,
  };
}
