// GitHub Deployment statuses, one deployment per StatefulSet and per rollout or rollback in the
// configured environment: created on the first report, then a status for each change of state
// (not for every report). A run that rolls a StatefulSet out and then back (on-failure-others:
// rollback) gives it two deployments: the rollout's, then the rollback's, which names the
// revision it restores. When the run goes to several kube contexts, each context has its own
// environment (`production/eu-1`, deployments.ts). Deployment writes go out one at a time, at
// least a second apart (session.ts), however many StatefulSets report at once.
import type { RolloutReport } from '../../engine/report.ts';
import type { Repository } from './context.ts';
import { createDeployment, createDeploymentStatus, deploymentStatus, statusKey } from './deployments.ts';
import { type GitHubSession, type Publisher, reportKey, subjectOf } from './session.ts';

/** What has been written for one rollout or rollback of one StatefulSet. */
interface Written {
  deploymentId: number | undefined;
  lastStatus: string | undefined;
}

/** One rollout or rollback of one StatefulSet: a report's runner-side identity. */
function deploymentKey(report: RolloutReport): string {
  return `${reportKey(report)} ${report.kind} ${report.startedAt}`;
}

export function createDeploymentPublisher(
  session: GitHubSession,
  environmentOf: (report: RolloutReport) => string | undefined,
): Publisher {
  const written = new Map<string, Written>();
  const { run } = session;
  /** Runs `write` after every earlier one ended and its pacing turn came. */
  const inTurn = async (write: () => Promise<void>): Promise<void> => {
    const ended = await session.deploymentPacer.turn();
    try {
      await write();
    } finally {
      ended();
    }
  };

  return async (report, repository: Repository) => {
    const environment = environmentOf(report);
    if (session.isOff('deployment') || environment === undefined) return;
    if (run.sha === undefined) {
      session.switchOff('deployment');
      session.log.warning(
        'GitHub Deployments are off: GITHUB_SHA is not set, so there is no commit to deploy.',
      );
      return;
    }
    const key = deploymentKey(report);
    const state = written.get(key) ?? { deploymentId: undefined, lastStatus: undefined };
    written.set(key, state);
    const status = deploymentStatus(report);
    const statusId = statusKey(report, status);
    if (statusId === state.lastStatus) return;
    const { sha } = run;
    try {
      await inTurn(async () => {
        state.deploymentId ??= await createDeployment(session.client(), session.policy, {
          repository,
          sha,
          environment,
          report,
        });
      });
      const id = state.deploymentId;
      if (id === undefined) return;
      await inTurn(() =>
        createDeploymentStatus(session.client(), session.policy, repository, id, {
          ...status,
          logUrl: run.runUrl,
        }),
      );
      state.lastStatus = statusId;
    } catch (error) {
      session.fail('deployment', error, subjectOf(report));
    }
  };
}
