// GitHub Deployments: one deployment per StatefulSet per rollout (or rollback), a status per
// stage, then the outcome. What a report maps to is pure; the requests are two small functions.
//
// Outcomes: a rollout that succeeded (or created its StatefulSet) is `success`; one that failed,
// halted or was rolled back by itself is `failure`; a manual rollback (`command: rollback`) that
// restored its revision is `success`, since that is what it was asked to do. A cancelled run is
// `error`, not `inactive`: its pods are partly on the new revision and a rerun resumes, and GitHub
// shows `inactive` as a deployment that was superseded, hiding what is still live.
//
// Every status is sent with `auto_inactive: false`. GitHub's default marks every earlier
// successful deployment of the same environment inactive; with one deployment per StatefulSet in
// one environment, the second StatefulSet of a run would mark the first's deployment inactive.
import type { Fleet } from '../../engine/fleet.ts';
import type { RolloutReport, Verdict } from '../../engine/report.ts';
import { type Octokit, type RetryPolicy, withRetry } from './api.ts';
import type { Repository } from './context.ts';

type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

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

/**
 * The environment of a deployment: the `deployment-environment` input, and, when the run goes to
 * more than one kube context, the context after a slash (`production/eu-1`), so each cluster's
 * deployments of a StatefulSet are told apart on GitHub's environments page.
 */
export function environmentOf(
  environment: string | undefined,
  fleet: Fleet | undefined,
  context: string,
): string | undefined {
  if (environment === undefined || fleet === undefined) return environment;
  const contexts = new Set(fleet.waves.flatMap((w) => w.members.map((m) => m.context)));
  return contexts.size > 1 ? `${environment}/${context}` : environment;
}

/** GitHub caps a status description at 140 characters. */
const maxDescription = 140;

export interface DeploymentStatus {
  readonly state: DeploymentState;
  readonly description: string;
}

/** The state a report ends (or goes on) in; a manual rollback that rolled back succeeded. */
function deploymentState(report: RolloutReport): DeploymentState {
  if (report.kind === 'rollback' && report.verdict === 'rolled-back') return 'success';
  return states[report.verdict];
}

function clampDescription(text: string): string {
  return text.length <= maxDescription ? text : `${text.slice(0, maxDescription - 1)}…`;
}

/** What an ended report says: the revision it left running, and the one it left behind. */
function endingText(report: RolloutReport): string {
  const { verdict, revision, previousRevision } = report;
  if (verdict === 'rolled-back') {
    // A manual rollback's revision is the one it restored; an automatic one's is the failed one.
    const restored =
      report.kind === 'rollback' ? revision : (report.rollback?.toRevision ?? previousRevision);
    const from = report.kind === 'rollback' ? previousRevision : revision;
    return `rolled back to ${restored ?? 'the previous revision'}${from === undefined ? '' : ` from ${from}`}`;
  }
  return `${report.kind} ${verdict.replace('-', ' ')}${revision === undefined ? '' : ` (${revision})`}`;
}

/** The status a report maps to. Descriptions are plain text on GitHub, not Markdown. */
export function deploymentStatus(report: RolloutReport): DeploymentStatus {
  const state = deploymentState(report);
  const target = `${report.namespace}/${report.name}`;
  const current = [...report.stages].reverse().find((s) => s.state !== 'pending') ?? report.stages[0];
  const [stage, onto] =
    report.kind === 'rollback'
      ? ['rollback stage', `restored ${report.revision ?? 'revision'}`]
      : ['stage', report.revision ?? 'the new revision'];
  const description =
    state === 'in_progress' && current !== undefined
      ? `${target}: ${stage} ${current.stage}/${report.stages.length}, ${current.updated}/${report.replicas} pods on ${onto}`
      : `${target}: ${endingText(report)}`;
  return { state, description: clampDescription(description) };
}

/** What the deployment records: for a rollback, the revision it restores (not just the commit). */
function deploymentDescription(report: RolloutReport): string {
  const target = `${report.namespace}/${report.name}`;
  const revision = report.revision === undefined ? '' : ` to ${report.revision}`;
  const verb = report.kind === 'rollback' ? 'rollback' : 'rollout';
  return clampDescription(`statefulset-canary ${verb} of ${target}${revision}`);
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
      description: deploymentDescription(report),
      // `revision` is what this deployment puts on the pods: the new revision of a rollout, the
      // restored one of a rollback (`previousRevision` is the one it replaces).
      payload: {
        kind: report.kind,
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
      // Not GitHub's default (true): that would mark the other StatefulSets' deployments of this
      // environment inactive (see the top of this file).
      auto_inactive: false,
      ...(status.logUrl === undefined ? {} : { log_url: status.logUrl }),
      request: { signal },
    }),
  );
}
