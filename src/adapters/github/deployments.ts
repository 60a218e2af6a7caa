// GitHub Deployments: one deployment per rollout (or rollback), a status per stage, then the
// outcome. What a report maps to is pure; the requests are two small functions.
import type { RolloutReport, Verdict } from '../../engine/report.ts';
import { type Octokit, type RetryPolicy, withRetry } from './api.ts';
import type { Repository } from './context.ts';

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

const states: Record<Verdict, DeploymentState> = {
  'in-progress': 'in_progress',
  succeeded: 'success',
  // Waiting for a person to promote: still under way.
  paused: 'in_progress',
  // Deployed, but no stage gated it: GitHub has no state for that; the description says so.
  'not-gated': 'success',
  created: 'success',
  failed: 'failure',
  halted: 'failure',
  'rolled-back': 'failure',
  cancelled: 'error',
  'no-change': 'inactive',
};

/** GitHub caps a status description at 140 characters. */
const maxDescription = 140;

export interface DeploymentStatus {
  readonly state: DeploymentState;
  readonly description: string;
}

/** The status a report maps to. Descriptions are plain text on GitHub, not Markdown. */
export function deploymentStatus(report: RolloutReport): DeploymentStatus {
  const state = states[report.verdict];
  const target = `${report.namespace}/${report.name}`;
  const current = [...report.stages].reverse().find((s) => s.state !== 'pending') ?? report.stages[0];
  let description: string;
  if (state === 'in_progress' && current !== undefined) {
    description = `${target}: stage ${current.stage}/${report.stages.length}, ${current.updated}/${report.replicas} pods on ${report.revision ?? 'the new revision'}`;
  } else {
    description = `${target}: ${report.verdict.replace('-', ' ')}${report.revision === undefined ? '' : ` (${report.revision})`}`;
  }
  return {
    state,
    description:
      description.length <= maxDescription ? description : `${description.slice(0, maxDescription - 1)}…`,
  };
}

/** Identifies one status so that a stage costs one status, not one per update. */
export function statusKey(report: RolloutReport, status: DeploymentStatus): string {
  const current = report.stages.filter((s) => s.state !== 'pending').length;
  return `${status.state}:${current}`;
}

export interface NewDeployment {
  readonly repository: Repository;
  readonly sha: string;
  readonly environment: string;
  readonly report: RolloutReport;
}

export async function createDeployment(
  octokit: Octokit,
  policy: RetryPolicy,
  input: NewDeployment,
): Promise<number> {
  const { report } = input;
  const response = await withRetry(policy, (signal) =>
    octokit.rest.repos.createDeployment({
      ...input.repository,
      ref: input.sha,
      environment: input.environment,
      task: 'deploy',
      // Deploy exactly this commit: no merge of the default branch, no wait for other checks.
      auto_merge: false,
      required_contexts: [],
      description: `statefulset-canary ${report.kind} of ${report.namespace}/${report.name}`.slice(
        0,
        maxDescription,
      ),
      payload: {
        context: report.context,
        namespace: report.namespace,
        name: report.name,
        revision: report.revision ?? null,
        previousRevision: report.previousRevision ?? null,
      },
      request: { signal },
    }),
  );
  // 202 means GitHub merged something instead of creating a deployment; auto_merge is off, so not expected.
  if (!('id' in response.data))
    throw new Error(`GitHub did not create a deployment: ${response.data.message ?? ''}`);
  return response.data.id;
}

export async function createDeploymentStatus(
  octokit: Octokit,
  policy: RetryPolicy,
  repository: Repository,
  deploymentId: number,
  status: DeploymentStatus & { readonly logUrl: string | undefined },
): Promise<void> {
  await withRetry(policy, (signal) =>
    octokit.rest.repos.createDeploymentStatus({
      ...repository,
      deployment_id: deploymentId,
      state: status.state,
      description: status.description,
      ...(status.logUrl === undefined ? {} : { log_url: status.logUrl }),
      request: { signal },
    }),
  );
}
