// The job summary (GITHUB_STEP_SUMMARY): the same report as the pull request comment, one
// section per StatefulSet, rewritten at each transition so a cancelled run still shows where it
// stopped. A fleet run (more than one StatefulSet or context) shows the fleet view instead, as
// its one comment does, with room for more details (GitHub takes up to 1 MiB of summary).
import * as core from '@actions/core';
import { type Fleet, isFleet, memberKey } from '../../engine/fleet.ts';
import type { PlanReport } from '../../engine/plan-report.ts';
import type { RolloutReport } from '../../engine/report.ts';
import type { Reporter } from '../../ports/reporter.ts';
import type { GitHubRunContext } from '../github/context.ts';
import { renderFleet } from '../github/markdown/fleet.ts';
import { renderPlan } from '../github/markdown/plan.ts';
import { renderReport } from '../github/markdown/report.ts';
import { plannedCommit } from '../github/plan-comment.ts';

/** A summary's characters: 1 MiB of UTF-8 even if every character took three bytes. */
const summaryMax = 340_000;

export function jobSummaryReporter(): Reporter {
  const reports = new Map<string, RolloutReport>();
  let fleet: Fleet | undefined;
  let writing = Promise.resolve();
  return {
    fleet(given) {
      fleet = isFleet(given) ? given : undefined;
    },
    update(report) {
      if (!process.env.GITHUB_STEP_SUMMARY) return Promise.resolve();
      reports.set(memberKey(report), report);
      const markdown =
        fleet === undefined
          ? [...reports.values()].map((r) => renderReport(r, {})).join('\n\n')
          : renderFleet(fleet, reports, { max: summaryMax });
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
