// Which pull request a run reports on. In order: the `pull-request` input; the event's own
// pull request; for a push, the merged pull request that brought the pushed commit to the
// pushed branch; otherwise (workflow_dispatch, schedule, ...) the one recorded on the
// StatefulSet by the rollout being rolled back.
import { type Octokit, type RetryPolicy, withRetry } from './api.ts';
import type { GitHubRunContext } from './context.ts';

export interface PullRequestSources {
  readonly run: GitHubRunContext;
  /** The `pull-request` input. */
  readonly input: number | undefined;
  /** The pull request recorded on the StatefulSet (rollout state annotations). */
  readonly recordedPullRequest: number | undefined;
}

export type PullRequestResolution =
  | { readonly number: number; readonly source: 'input' | 'event' | 'merged-commit' | 'recorded' }
  | { readonly number: undefined; readonly why: string };

const pullRequestEvents = new Set(['pull_request', 'pull_request_target', 'pull_request_review']);

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The pull request number in a pull_request-like payload. */
export function pullRequestFromPayload(payload: Readonly<Record<string, unknown>>): number | undefined {
  const pr = payload.pull_request;
  if (typeof pr === 'object' && pr !== null && 'number' in pr) return positiveInteger(pr.number);
  return positiveInteger(payload.number);
}

interface AssociatedPull {
  readonly number: number;
  readonly merged_at?: string | null;
  readonly base: { readonly ref: string };
}

/** Of the pull requests associated with a commit, the one merged into `branch` (latest merge wins). */
export function mergedInto(pulls: readonly AssociatedPull[], branch: string): number | undefined {
  const merged = pulls
    .filter((pull) => typeof pull.merged_at === 'string' && pull.base.ref === branch)
    .sort((a, b) => String(b.merged_at).localeCompare(String(a.merged_at)));
  return merged[0]?.number;
}

async function fromPush(
  octokit: Octokit | undefined,
  policy: RetryPolicy,
  run: GitHubRunContext,
): Promise<PullRequestResolution> {
  if (octokit === undefined) {
    return { number: undefined, why: 'no GitHub token to look up the pull request of this push' };
  }
  const branch = run.ref?.startsWith('refs/heads/') ? run.ref.slice('refs/heads/'.length) : undefined;
  if (run.repository === undefined || run.sha === undefined || branch === undefined) {
    return {
      number: undefined,
      why: `push to ${run.ref ?? 'an unknown ref'} without a branch and commit to look up`,
    };
  }
  const { owner, repo } = run.repository;
  const pulls = await withRetry(policy, async (signal) => {
    const response = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner,
      repo,
      commit_sha: run.sha ?? '',
      per_page: 100,
      request: { signal },
    });
    return response.data;
  });
  const number = mergedInto(pulls, branch);
  return number === undefined
    ? { number: undefined, why: `no pull request merged into ${branch} is associated with commit ${run.sha}` }
    : { number, source: 'merged-commit' };
}

/**
 * Resolves the pull request to report on. Throws GitHubError only when the push lookup fails;
 * "none" is a normal answer with the reason, for a notice. Without a client (no token) only
 * the lookup of a push's pull request is impossible.
 */
/** "a push run", "an issue_comment run", "a run of an unknown event": the article agrees with the word. */
export function runOf(eventName: string | undefined): string {
  if (eventName === undefined) return 'a run of an unknown event';
  return `${/^[aeiou]/i.test(eventName) ? 'an' : 'a'} ${eventName} run`;
}

export async function resolvePullRequest(
  octokit: Octokit | undefined,
  policy: RetryPolicy,
  sources: PullRequestSources,
): Promise<PullRequestResolution> {
  const { run, input, recordedPullRequest } = sources;
  if (input !== undefined) return { number: input, source: 'input' };
  const event = run.eventName ?? 'unknown';
  if (pullRequestEvents.has(event)) {
    const number = pullRequestFromPayload(run.payload);
    return number === undefined
      ? { number: undefined, why: `the ${event} payload has no pull request number` }
      : { number, source: 'event' };
  }
  if (event === 'push') return fromPush(octokit, policy, run);
  if (recordedPullRequest !== undefined) return { number: recordedPullRequest, source: 'recorded' };
  return {
    number: undefined,
    why: `${runOf(run.eventName)} with no \`pull-request\` input and none recorded on the StatefulSet`,
  };
}
