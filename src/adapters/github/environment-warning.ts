// A run that someone other than a merge starts (a comment, another workflow's run, a pull
// request from anyone with pull_request_target) and that changes the cluster should run in an
// environment: its required reviewers, branch rule and secrets are the guard. An action cannot
// see its job's environment (no variable carries it), so the workflow says it: the
// `deployment-environment` input names the environment the job runs in.
import type { Command } from '../../config/settings.ts';

/** Events whose runs are started by someone else than the one who merged. */
const startedByOthers = new Set(['issue_comment', 'workflow_run', 'pull_request_target']);

/** Commands that change the cluster. */
const changing = new Set<Command>(['rollout', 'rollback', 'promote', 'abort']);

/** The warning for a changing command on such an event without a named environment, if any. */
export function environmentWarning(
  eventName: string | undefined,
  command: Command,
  deploymentEnvironment: string | undefined,
): string | undefined {
  if (
    eventName === undefined ||
    !startedByOthers.has(eventName) ||
    !changing.has(command) ||
    deploymentEnvironment !== undefined
  )
    return undefined;
  return (
    `command ${command} changes the cluster on a ${eventName} run, and no environment is named. ` +
    'Run the job in an environment with required reviewers and a deployment branch rule (`environment:`), ' +
    'keep the kubeconfig an environment secret, and set the `deployment-environment` input to that ' +
    "environment's name: an action cannot see its job's environment, so this warning stays until the input names it " +
    '(docs/permissions.md: Security).'
  );
}
