// When `command: plan` cannot run in a pull request's run, and why: GitHub gives `pull_request`
// runs of pull requests from forks no secrets (no kubeconfig) and a read-only GITHUB_TOKEN (no
// comment), and Dependabot's runs only Dependabot secrets. The step then says so and succeeds:
// a pull request from a fork must not show a red check for what its author cannot change.
import type { GitHubRunContext } from './context.ts';

/** Events whose runs from a fork get no secrets and a read-only token (pull_request_target gets both). */
const restrictedEvents: ReadonlySet<string> = new Set([
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
]);

function fullName(side: unknown): string | undefined {
  const repo = typeof side === 'object' && side !== null ? (side as { repo?: unknown }).repo : undefined;
  const name =
    typeof repo === 'object' && repo !== null ? (repo as { full_name?: unknown }).full_name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/** The fork a pull_request run's pull request comes from, or undefined (same repository, or not a pull_request run). */
export function forkOf(run: GitHubRunContext): string | undefined {
  if (!restrictedEvents.has(run.eventName ?? '')) return undefined;
  const pr = run.payload.pull_request;
  if (typeof pr !== 'object' || pr === null) return undefined;
  const { head, base } = pr as { head?: unknown; base?: unknown };
  const from = fullName(head);
  const into = fullName(base);
  if (into === undefined) return undefined;
  // A deleted fork leaves head.repo null.
  if (from === undefined) return '(a deleted fork)';
  return from.toLowerCase() === into.toLowerCase() ? undefined : from;
}

/**
 * Why the plan cannot run, or undefined. `kubeconfigError`: loading the kubeconfig failed
 * (checked after the fork test, which needs no kubeconfig).
 */
export function planCannotRun(
  command: string,
  kubeconfigInput: string | undefined,
  run: GitHubRunContext,
  kubeconfigError?: Error,
): string | undefined {
  if (command !== 'plan' || !restrictedEvents.has(run.eventName ?? '')) return undefined;
  const fork = forkOf(run);
  if (fork !== undefined) {
    return (
      `this pull request comes from the fork ${fork}, and GitHub gives ${run.eventName} runs from forks ` +
      'no secrets (no kubeconfig to reach the cluster) and a read-only token (no plan comment). ' +
      'A maintainer can plan it by pushing its branch to this repository, or with the CLI (node dist/cli.js plan)'
    );
  }
  if (kubeconfigError !== undefined && (kubeconfigInput ?? '').trim() === '') {
    return (
      `the kubeconfig input is empty and no other kubeconfig was found (${kubeconfigError.message}). ` +
      'Secrets are not passed to this run: Dependabot pull requests get only Dependabot secrets ' +
      '(add the kubeconfig secret there too), and a misspelt secret name reads as empty'
    );
  }
  return undefined;
}
