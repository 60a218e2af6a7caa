// The job summary (GITHUB_STEP_SUMMARY): the same report as the pull request comment, one
// section per StatefulSet, rewritten at each transition so a cancelled run still shows where it stopped.
import * as core from '@actions/core';
import type { PlanReport } from '../../engine/plan-report.ts';
import type { RolloutReport } from '../../engine/report.ts';
import type { Reporter } from '../../ports/reporter.ts';
import type { GitHubRunContext } from '../github/context.ts';
import { renderPlan } from '../github/markdown/plan.ts';
import { renderReport } from '../github/markdown/report.ts';
import { plannedCommit } from '../github/plan-comment.ts';

export function jobSummaryReporter(): Reporter {
  const reports = new Map<string, RolloutReport>();
  let writing = Promise.resolve();
  return {
    update(report) {
      if (!process.env.GITHUB_STEP_SUMMARY) return Promise.resolve();
      reports.set(`${report.namespace}/${report.name}`, report);
      const markdown = [...reports.values()].map((r) => renderReport(r, {})).join('\n\n');
      writing = writing
        .then(() => core.summary.emptyBuffer().addRaw(markdown, true).write({ overwrite: true }))
        .then(() => undefined)
        .catch((error: unknown) => core.warning(`could not write the job summary: ${String(error)}`));
      return writing;
    },
  };
}

/** `command: plan`: the whole plan as the job summary (never throws). */
export async function writePlanSummary(
  plan: PlanReport,
  run: GitHubRunContext,
  plannedAt: number,
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const commit = plannedCommit(run);
  const markdown = renderPlan(plan, { plannedAt, ...(commit === undefined ? {} : { commit }) });
  await writeSummary(markdown);
}

/** A job summary that says why the step did nothing (a fork's plan); never throws. */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary
    .emptyBuffer()
    .addRaw(markdown, true)
    .write({ overwrite: true })
    .then(() => undefined)
    .catch((error: unknown) => core.warning(`could not write the job summary: ${String(error)}`));
}
