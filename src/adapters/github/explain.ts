// Warning text for a GitHub request that failed: what could not be done, why, and the fix.
import type { GitHubError, RetryPolicy } from './api.ts';
import type { GitHubRunContext } from './context.ts';

export interface FailureContext {
  readonly channel: 'comment' | 'deployment' | 'lookup';
  readonly error: GitHubError;
  /** What the request was for, e.g. `shop/web`. */
  readonly subject: string;
  readonly run: GitHubRunContext;
  readonly pullRequest: number | undefined;
  readonly policy: RetryPolicy;
  /** The channel is now off for the rest of the run. */
  readonly permanent: boolean;
  /** The run was cancelled: this was one of its last reports. */
  readonly cancelled: boolean;
}

const what = {
  comment: 'write the pull request comment',
  deployment: 'write the GitHub Deployment status',
  lookup: 'find the pull request of this push',
} as const;

const permission = {
  comment: '`permissions: pull-requests: write`',
  deployment: '`permissions: deployments: write`',
  lookup: '`permissions: pull-requests: read` (or set the `pull-request` input)',
} as const;

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function repositoryName(run: GitHubRunContext): string {
  return run.repository === undefined ? 'the repository' : `${run.repository.owner}/${run.repository.repo}`;
}

function fix(context: FailureContext): string {
  const { channel, error, run, pullRequest, policy } = context;
  switch (error.kind) {
    case 'forbidden':
      return (
        `Give the job ${permission[channel]}.` +
        (channel === 'lookup'
          ? ''
          : ' Runs for pull requests from forks get a read-only token and cannot write here at all.')
      );
    case 'unauthorized':
      return 'The `github-token` input was rejected (expired or revoked?): pass a valid token.';
    case 'not-found':
      return channel === 'comment' && pullRequest !== undefined
        ? `Pull request #${pullRequest} was not found in ${repositoryName(run)} with this token: check the \`pull-request\` input and that the token can read the repository.`
        : `${repositoryName(run)} was not found with this token: check GITHUB_REPOSITORY and that the token can read the repository.`;
    case 'rate-limited':
      return `GitHub's rate limit asks to wait ${Math.ceil((error.retryAfterMs ?? 0) / 1000)} s, more than the ${Math.round(policy.maxRetryAfterMs / 1000)} s this action waits; this update was skipped.`;
    case 'server':
      return `GitHub kept failing after ${policy.retries + 1} attempts; the next stage will try again.`;
    case 'unreachable':
      return `The GitHub API at ${run.apiUrl} is unreachable: check GITHUB_API_URL and the runner's network.`;
    case 'timeout':
      return context.cancelled
        ? `The run was cancelled and GitHub did not answer in time${channel === 'deployment' ? ': the deployment may still show its last state; a rerun reports again' : ''}.`
        : `GitHub did not answer within ${seconds(policy.requestTimeoutMs)}; the next stage will try again.`;
    case 'superseded':
      return 'A newer report replaces this one.';
    case 'invalid':
      return 'GitHub rejected the request; please report this as a bug of statefulset-canary.';
  }
}

export function explain(context: FailureContext): string {
  const { channel, error, subject, permanent } = context;
  const status = error.status === undefined ? '' : `HTTP ${error.status}: `;
  const off = permanent
    ? ` No more ${channel === 'lookup' ? 'pull request comments' : `${channel} updates`} this run.`
    : '';
  return `Could not ${what[channel]} for ${subject} (${status}${error.message}). ${fix(context)}${off} The rollout goes on.`;
}
