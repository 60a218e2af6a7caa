// The merged pull requests a push brings to its branch. A push can carry several: a merge
// queue's batch, or a run that replaced a pending one (a concurrency group keeps one pending
// run, so the run that goes ahead rolls out the changes of the runs it replaced). So the
// commits are those since the last change each StatefulSet recorded (else since the push's
// `before`), on the branch's first-parent line, newest first; each is asked for the pull
// request that brought it. GitHub's commit-to-pull-request association can lag a merge by a
// moment: an answer with no pull request at all is asked again a few times.
import { GitHubError, type Octokit, type RetryPolicy, withRetry } from './api.ts';
import type { GitHubRunContext, Repository } from './context.ts';

/** The newest commits asked about; older ones are left out (with a note). */
export const maxCommits = 20;
/** Waits before asking again when no commit had a merged pull request. */
export const emptyAnswerWaitsMs: readonly number[] = [1000, 2000, 4000];

interface AssociatedPull {
  readonly number: number;
  readonly merged_at?: string | null;
  readonly base: { readonly ref: string };
}

/** Of the pull requests associated with a commit, those merged into `branch`, latest merge first. */
function mergedInto(pulls: readonly AssociatedPull[], branch: string): number[] {
  return pulls
    .filter((pull) => typeof pull.merged_at === 'string' && pull.base.ref === branch)
    .sort((a, b) => String(b.merged_at).localeCompare(String(a.merged_at)))
    .map((pull) => pull.number);
}

interface ComparedCommit {
  readonly sha: string;
  readonly parents: ReadonlyArray<{ readonly sha: string }>;
}

/** From `head` back along first parents, as far as `commits` reach, newest first. */
function firstParentLine(commits: readonly ComparedCommit[], head: string): string[] {
  const parents = new Map(commits.map((c) => [c.sha, c.parents[0]?.sha]));
  const line: string[] = [];
  for (let sha: string | undefined = head; sha !== undefined && parents.has(sha); sha = parents.get(sha)) {
    if (line.includes(sha)) break;
    line.push(sha);
  }
  return line;
}

const isSha = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{40}$/i.test(value);

/** The commits between `base` and `head` on head's first-parent line (GET .../compare/base...head). */
async function commitsSince(
  octokit: Octokit,
  policy: RetryPolicy,
  repository: Repository,
  base: string,
  head: string,
): Promise<string[]> {
  const page = async (number: number) =>
    (
      await withRetry(policy, (signal) =>
        octokit.rest.repos.compareCommitsWithBasehead({
          ...repository,
          basehead: `${base}...${head}`,
          per_page: 100,
          page: number,
          request: { signal },
        }),
      )
    ).data;
  const first = await page(1);
  // Commits come oldest first: the head's end of a long range is on the last page.
  const last =
    first.total_commits > first.commits.length ? await page(Math.ceil(first.total_commits / 100)) : first;
  return firstParentLine(last.commits, head);
}

export interface PushCommits {
  /** Newest first, the head first. */
  readonly commits: readonly string[];
  /** What could not be looked at, for the debug log. */
  readonly notes: readonly string[];
}

/** The commits of a push to ask about: the head and those since each base, newest first. */
export async function pushCommits(
  octokit: Octokit,
  policy: RetryPolicy,
  run: GitHubRunContext & { readonly repository: Repository; readonly sha: string },
  recordedCommits: readonly string[],
): Promise<PushCommits> {
  const before = run.payload.before;
  const bases = new Set(
    [...recordedCommits, ...(isSha(before) && !/^0+$/.test(before) ? [before] : [])].filter(
      (base) => isSha(base) && base !== run.sha,
    ),
  );
  const commits = new Set([run.sha]);
  const notes: string[] = [];
  for (const base of bases) {
    try {
      for (const sha of await commitsSince(octokit, policy, run.repository, base, run.sha)) commits.add(sha);
    } catch (error) {
      if (!(error instanceof GitHubError)) throw error;
      notes.push(`cannot compare ${base.slice(0, 12)}...${run.sha.slice(0, 12)} (${error.message})`);
    }
  }
  const all = [...commits];
  if (all.length > maxCommits) notes.push(`${all.length - maxCommits} older commits not looked up`);
  return { commits: all.slice(0, maxCommits), notes };
}

/** The pull requests merged into `branch` that brought `commits`, latest merge first per commit. */
async function pullRequestsOf(
  octokit: Octokit,
  policy: RetryPolicy,
  repository: Repository,
  commits: readonly string[],
  branch: string,
): Promise<number[]> {
  const found = new Set<number>();
  for (const sha of commits) {
    const pulls = await withRetry(policy, async (signal) => {
      const response = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
        ...repository,
        commit_sha: sha,
        per_page: 100,
        request: { signal },
      });
      return response.data;
    });
    for (const number of mergedInto(pulls, branch)) found.add(number);
  }
  return [...found];
}

/** pullRequestsOf, asked again after each of `emptyAnswerWaitsMs` while it finds none. */
export async function pullRequestsOfSoon(
  octokit: Octokit,
  policy: RetryPolicy,
  repository: Repository,
  commits: readonly string[],
  branch: string,
): Promise<number[]> {
  for (const wait of [0, ...emptyAnswerWaitsMs]) {
    if (wait > 0) await policy.sleep(wait);
    const found = await pullRequestsOf(octokit, policy, repository, commits, branch);
    if (found.length > 0) return found;
  }
  return [];
}
