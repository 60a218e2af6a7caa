// GitHub Deployment statuses, one deployment per StatefulSet in the configured environment:
// created on the first report, then a status for each change of state (not for every report).
import type { Repository } from './context.ts';
import { createDeployment, createDeploymentStatus, deploymentStatus, statusKey } from './deployments.ts';
import { type GitHubSession, type Publisher, reportKey, subjectOf } from './session.ts';

/** What has been written for one StatefulSet. */
interface Written {
  deploymentId: number | undefined;
  lastStatus: string | undefined;
}

export function createDeploymentPublisher(
  session: GitHubSession,
  environment: string | undefined,
): Publisher {
  const written = new Map<string, Written>();
  const { run, policy } = session;

  return async (report, repository: Repository) => {
    if (session.isOff('deployment') || environment === undefined) return;
    if (run.sha === undefined) {
      session.switchOff('deployment');
      session.log.warning(
        'GitHub Deployments are off: GITHUB_SHA is not set, so there is no commit to deploy.',
      );
      return;
    }
    const key = reportKey(report);
    const state = written.get(key) ?? { deploymentId: undefined, lastStatus: undefined };
    written.set(key, state);
    const status = deploymentStatus(report);
    const statusId = statusKey(report, status);
    if (statusId === state.lastStatus) return;
    try {
      state.deploymentId ??= await createDeployment(session.client(), policy, {
        repository,
        sha: run.sha,
        environment,
        report,
      });
      await createDeploymentStatus(session.client(), policy, repository, state.deploymentId, {
        ...status,
        logUrl: run.runUrl,
      });
      state.lastStatus = statusId;
    } catch (error) {
      session.fail('deployment', error, subjectOf(report));
    }
  };
}
