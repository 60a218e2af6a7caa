// Which pull requests a run reports on. In order: the `pull-request` input; the event's own
// pull request (pull_request, pull_request_target, pull_request_review,
// pull_request_review_comment, an issue_comment on a pull request, the newest pull request of a
// merge_group); for a push, every merged pull request the push brought to the pushed branch
// (push-pulls.ts); otherwise (workflow_dispatch, schedule, ...) the one recorded on the
// StatefulSet by the rollout being rolled back.
import type { Octokit, RetryPolicy } from './api.ts';
import type { GitHubRunContext } from './context.ts';
import { pullRequestsOfSoon, pushCommits } from './push-pulls.ts';

export interface PullRequestSources {
  readonly run: GitHubRunContext;
  /** The `pull-request` input. */
  readonly input: number | undefined;
  /** The pull request recorded on the StatefulSet (rollout state annotations). */
  readonly recordedPullRequest: number | undefined;
  /** The commits the StatefulSets of a push rollout last recorded: where its changes start. */
  readonly recordedCommits?: readonly string[];
}

type PullRequestSource = 'input' | 'event' | 'merge-group' | 'merged-commit' | 'recorded';

export type PullRequestResolution =
  | {
      readonly numbers: readonly number[];
      readonly source: PullRequestSource;
      readonly notes?: readonly string[];
    }
  | { readonly numbers: readonly []; readonly why: string; readonly notes?: readonly string[] };

/** Events whose payload has the pull request under `pull_request`. */
export const pullRequestEvents: ReadonlySet<string> = new Set([
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment',
]);

/** Every event whose payload says which pull request to report on (docs/github-reporting.md lists them). */
export const understoodEvents: readonly string[] = [
  ...pullRequestEvents,
  'issue_comment',
  'merge_group',
  'push',
];

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** The pull request number in a pull_request-like payload. */
function pullRequestFromPayload(payload: Readonly<Record<string, unknown>>): number | undefined {
  const pr = payload.pull_request;
  if (typeof pr === 'object' && pr !== null && 'number' in pr) return positiveInteger(pr.number);
  return positiveInteger(payload.number);
}

/**
 * The pull request of a merge_group run: its payload has no pull request, but the queue's
 * branch names the newest one of the group (`gh-readonly-queue/main/pr-123-<sha>`).
 */
function pullRequestOfMergeGroup(payload: Readonly<Record<string, unknown>>): number | undefined {
  const ref = field(payload.merge_group, 'head_ref');
  const match = typeof ref === 'string' ? /\/pr-(\d+)-[0-9a-f]+$/.exec(ref) : null;
  return match?.[1] === undefined ? undefined : positiveInteger(Number(match[1]));
}

/** "a push run", "an issue_comment run", "a run of an unknown event": the article agrees with the word. */
export function runOf(eventName: string | undefined): string {
  if (eventName === undefined) return 'a run of an unknown event';
  return `${/^[aeiou]/i.test(eventName) ? 'an' : 'a'} ${eventName} run`;
}

const none = (why: string, notes?: readonly string[]): PullRequestResolution => ({
  numbers: [],
  why,
  ...(notes === undefined ? {} : { notes }),
});

async function fromPush(
  octokit: Octokit | undefined,
  policy: RetryPolicy,
  run: GitHubRunContext,
  recordedCommits: readonly string[],
): Promise<PullRequestResolution> {
  if (octokit === undefined) return none('no GitHub token to look up the pull requests of this push');
  const branch = run.ref?.startsWith('refs/heads/') ? run.ref.slice('refs/heads/'.length) : undefined;
  const { repository, sha } = run;
  if (repository === undefined || sha === undefined || branch === undefined) {
    return none(`push to ${run.ref ?? 'an unknown ref'} without a branch and commit to look up`);
  }
  const { commits, notes } = await pushCommits(octokit, policy, { ...run, repository, sha }, recordedCommits);
  const numbers = await pullRequestsOfSoon(octokit, policy, repository, commits, branch);
  if (numbers.length > 0) return { numbers, source: 'merged-commit', notes };
  const which = commits.length === 1 ? `commit ${sha}` : `the ${commits.length} commits of this push`;
  return none(`no pull request merged into ${branch} is associated with ${which}`, notes);
}

function fromEvent(run: GitHubRunContext, event: string): PullRequestResolution | undefined {
  if (pullRequestEvents.has(event)) {
    const number = pullRequestFromPayload(run.payload);
    return number === undefined
      ? none(`the ${event} payload has no pull request number`)
      : { numbers: [number], source: 'event' };
  }
  if (event === 'issue_comment') {
    const issue = run.payload.issue;
    const number =
      field(issue, 'pull_request') === undefined ? undefined : positiveInteger(field(issue, 'number'));
    return number === undefined
      ? none('the issue_comment is on an issue, not on a pull request')
      : { numbers: [number], source: 'event' };
  }
  if (event === 'merge_group') {
    const number = pullRequestOfMergeGroup(run.payload);
    return number === undefined
      ? none('the merge_group payload names no pull request in its head_ref')
      : { numbers: [number], source: 'merge-group' };
  }
  return undefined;
}

/**
 * Resolves the pull requests to report on. Throws GitHubError only when the push lookup fails;
 * "none" is a normal answer with the reason, for a notice. Without a client (no token) only
 * the lookup of a push's pull requests is impossible.
 */
export async function resolvePullRequests(
  octokit: Octokit | undefined,
  policy: RetryPolicy,
  sources: PullRequestSources,
): Promise<PullRequestResolution> {
  const { run, input, recordedPullRequest } = sources;
  if (input !== undefined) return { numbers: [input], source: 'input' };
  const event = run.eventName ?? 'unknown';
  const fromPayload = fromEvent(run, event);
  if (fromPayload !== undefined) return fromPayload;
  if (event === 'push') return fromPush(octokit, policy, run, sources.recordedCommits ?? []);
  if (recordedPullRequest !== undefined) return { numbers: [recordedPullRequest], source: 'recorded' };
  return none(`${runOf(run.eventName)} with no \`pull-request\` input and none recorded on the StatefulSet`);
}
