// `command: plan` in a pull request's run that cannot reach the cluster (a fork's, Dependabot's):
// the step says why, in a warning and the job summary, sets `result: skipped` and succeeds.
import * as core from '@actions/core';
import type { Settings } from '../../config/settings.ts';
import type { GitHubRunContext } from '../github/context.ts';
import { planCannotRun } from '../github/fork.ts';
import { renderPlanSkipped } from '../github/markdown/plan.ts';
import { writeSummary } from './job-summary.ts';

/** `load()`'s kubeconfig, or undefined when the plan cannot run here (said, not failed). */
export async function kubeConfigOrSkip<T>(
  settings: Settings,
  run: GitHubRunContext,
  load: () => T,
): Promise<T | undefined> {
  let why = planCannotRun(settings.command, settings.kubeconfig, run);
  if (why === undefined) {
    try {
      return load();
    } catch (error) {
      why = planCannotRun(settings.command, settings.kubeconfig, run, error as Error);
      if (why === undefined) throw error;
    }
  }
  core.warning(`The plan cannot run: ${why}. The step succeeds without a plan.`);
  await writeSummary(renderPlanSkipped(why));
  core.setOutput('result', 'skipped');
  return undefined;
}
