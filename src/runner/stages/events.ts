// The hooks of a rollout's events (before it, after it, on a rollback) and what guards its
// stages, built from the run's settings. Beside the stage driver: rollouts and rollbacks alike
// call these, so neither imports the other.
import type { HookContext, HookEvent } from '../../engine/hooks.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { JOB_LABEL } from '../../ports/job.ts';
import type { RunScope } from '../run.ts';
import { type GuardSpec, StageGuards } from './guards.ts';
import type { Progress } from './progress.ts';

/** What guards the stages of a rollout: its before-checks, the primary's place and the hooks. */
export function guardsOf(scope: RunScope, previous: string | undefined): GuardSpec | undefined {
  const { settings, run } = scope;
  const before = settings.analysis.some((c) => c.when === 'before');
  if (!before && settings.primary === undefined && settings.hooks.length === 0) return undefined;
  return {
    checks: settings.analysis,
    primary: settings.primary,
    hooks: settings.hooks,
    previousRevision: previous,
    runUrl: run.runUrl,
  };
}

/** Runs the hooks of a rollout's `event` (before-rollout, after-rollout, rollback); a gating failure is the answer. */
export async function eventHooks(
  scope: RunScope,
  staged: { readonly ref: StatefulSetRef; readonly progress: Progress; readonly target: string },
  guards: GuardSpec | undefined,
  event: HookEvent,
  at: Partial<HookContext> = {},
): Promise<string | undefined> {
  if (!guards?.hooks.some((h) => h.on.includes(event))) return undefined;
  const { deps } = scope;
  const observation = await deps.cluster.observe(staged.ref);
  const view = observation ? { latest: () => observation, waitUntil: async () => undefined } : undefined;
  const run = new StageGuards(deps, staged.ref, staged.target, guards, {
    onChecks: () => undefined,
    onHook: (report) => staged.progress.hook(report, report.at),
  });
  const outcome = await run.hooks(event, at, view, scope.signal);
  return outcome?.kind === 'failed' ? outcome.failure.message : undefined;
}

/**
 * Jobs an earlier run of this StatefulSet left behind (killed before it could delete them),
 * found by their label and deleted before this run creates its own. Only when the run uses Jobs.
 */
export async function removeLeftoverJobs(scope: RunScope, ref: StatefulSetRef): Promise<void> {
  const { settings, deps } = scope;
  const calls = [...settings.hooks.map((h) => h.call), settings.primary?.switchover];
  const usesJobs =
    settings.analysis.some((c) => c.probe.kind === 'job') || calls.some((c) => c?.kind === 'job');
  if (!usesJobs || !deps.cluster.removeJobs) return;
  const removed = await deps.cluster.removeJobs(ref.namespace, { [JOB_LABEL]: ref.name });
  if (removed.length > 0)
    deps.log.info(
      `${ref.namespace}/${ref.name}: deleted Jobs an earlier run left behind: ${removed.join(', ')}`,
    );
}
