// Manual rollback (workflow_dispatch): restore an earlier revision's template from its
// ControllerRevision with the partition frozen, then step it down with the rollback stages.
import type { StagedSpec } from '../../engine/decide.ts';
import type { RevisionInfo, StatefulSetObservation } from '../../engine/observation.ts';
import { planPartitions, unavailableText } from '../../engine/plan.ts';
import { imageChanges, type RollbackReport } from '../../engine/report.ts';
import { decideStart } from '../../engine/resume.ts';
import { CHANGE_CAUSE, changeCause, decodeState, encodeProgress, encodeState } from '../../engine/state.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { assertOwned } from '../commands/owner.ts';
import { finishRun, newProgress, type RunDeps, type RunScope, type StatefulSetResult } from '../run.ts';
import { driveStages, type StagesOutcome } from '../stages/driver.ts';
import { eventHooks, guardsOf } from '../stages/events.ts';
import type { StageHooks } from '../stages/hooks.ts';
import { stageHooks } from '../stages/hooks.ts';
import type { Progress } from '../stages/progress.ts';
import { waitForRevision } from '../wait.ts';
import { resumeInterruptedRollback } from './interrupted.ts';

class RollbackTargetError extends Error {
  override name = 'RollbackTargetError';
}

/** A revision to go back to, and the newer ones passed over because their canary failed. */
interface RollbackChoice {
  readonly target: RevisionInfo;
  readonly skipped: readonly RevisionInfo[];
}

const listed = (revisions: readonly RevisionInfo[]) =>
  revisions
    .map(
      (r) =>
        `${r.number} (${r.name}${r.changeCause ? `: ${r.changeCause}` : ''}${r.failed ? '; canary failed' : ''})`,
    )
    .join(', ') || 'none';

/**
 * The revision to go back to: `toRevision` by number, else the newest one before the current
 * whose canary did not fail (after an automatic rollback the failed revision is the newest
 * before the current one, and going "back" to it would redo the failure).
 */
function chooseTarget(
  revisions: readonly RevisionInfo[],
  current: string,
  toRevision: number | string | undefined,
  ref: StatefulSetRef,
): RollbackChoice {
  const where = `StatefulSet ${ref.namespace}/${ref.name}`;
  if (typeof toRevision === 'string') {
    const found = revisions.find((r) => r.name === toRevision);
    if (found) return { target: found, skipped: [] };
    throw new RollbackTargetError(
      `${where} no longer has revision ${toRevision}. Revisions available: ${listed(revisions)}.`,
    );
  }
  if (toRevision !== undefined) {
    const found = revisions.find((r) => r.number === toRevision);
    if (found) return { target: found, skipped: [] };
    throw new RollbackTargetError(
      `${where} has no revision ${toRevision} (pruned by revisionHistoryLimit, or never existed). ` +
        `Revisions available: ${listed(revisions)}. Set to-revision to one of them, or leave it empty for the previous one.`,
    );
  }
  const currentNumber = revisions.find((r) => r.name === current)?.number ?? Number.POSITIVE_INFINITY;
  const earlier = revisions.filter((r) => r.name !== current && r.number < currentNumber).reverse();
  const target = earlier.find((r) => r.failed === undefined);
  if (target) return { target, skipped: earlier.slice(0, earlier.indexOf(target)) };
  throw new RollbackTargetError(
    `${where} has no revision before its current one (${current}) to roll back to` +
      (earlier.length > 0 ? ' whose canary did not fail' : '') +
      `. Revisions available: ${listed(revisions)}. Set to-revision to choose one anyway.`,
  );
}

/**
 * The StatefulSet (after finishing an automatic rollback an earlier run left unfinished) and
 * the revision to go back to.
 */
async function rollbackTarget(
  scope: RunScope,
  ref: StatefulSetRef,
  pick: { readonly revisionName?: string },
): Promise<{ sts: StatefulSetObservation; target: RevisionInfo; finished: RollbackReport | undefined }> {
  const { deps, settings } = scope;
  const found = await deps.cluster.observe(ref);
  if (!found) {
    throw new RollbackTargetError(
      `StatefulSet ${ref.namespace}/${ref.name} was not found: check the statefulset and namespace inputs`,
    );
  }
  // A comment command: only what its pull request rolled out, checked before anything changes.
  assertOwned(settings, found.statefulSet);
  const { observation: before, finished } = await resumeInterruptedRollback(scope, found);
  const sts = before.statefulSet;
  // After finishing an interrupted automatic rollback, "the previous revision" is where it went.
  const wanted = pick.revisionName ?? settings.toRevision ?? finished?.toRevision;
  const { target, skipped } = chooseTarget(
    await deps.cluster.revisions(ref),
    sts.updateRevision,
    wanted,
    ref,
  );
  for (const r of skipped) {
    deps.log.info(`Skipping revision ${r.number} (${r.name}): its canary failed (${r.failed ?? ''})`);
  }
  return { sts, target, finished };
}

export async function rollbackStatefulSet(
  scope: RunScope,
  ref: StatefulSetRef,
  pick: { readonly revisionName?: string } = {},
): Promise<StatefulSetResult> {
  const { deps, settings, run, signal } = scope;
  const { sts, target, finished } = await rollbackTarget(scope, ref, pick);
  const start = decideStart({
    kind: 'rollback',
    sts,
    recorded: decodeState(sts.annotations),
    targetIsLive: target.name === sts.updateRevision,
    replicas: sts.replicas,
  });
  if (start.kind === 'refuse')
    throw new RollbackTargetError(`StatefulSet ${ref.namespace}/${ref.name}: ${start.message}`);
  const progress = newProgress(deps, run, ref, 'rollback', sts.replicas);
  if (finished) progress.rollback(finished, deps.clock.now());
  if (start.kind === 'no-change') {
    deps.log.info(
      `${ref.namespace}/${ref.name} already runs revision ${target.number} (${target.name}); nothing to roll back`,
    );
    progress.revisions(target.name, target.name, [], deps.clock.now(), false);
    return finishRun(deps, progress, {
      ref,
      result: 'no-change',
      revision: target.name,
      previous: target.name,
    });
  }
  const previous = start.kind === 'resume' ? start.previous : sts.updateRevision;
  const reason = `back to revision ${target.number}${settings.reason ? `: ${settings.reason}` : ''}`;
  const fromPartition = start.kind === 'resume' ? start.fromPartition : sts.replicas;
  if (start.kind === 'fresh') await writeTargetTemplate(scope, ref, { sts, target, previous, reason });
  else
    deps.log.info(
      `${ref.namespace}/${ref.name}: resuming the rollback to revision ${target.number} at partition ${fromPartition}`,
    );
  await waitForRevision(deps, ref, target.name, signal);
  progress.revisions(previous, target.name, imageChanges(sts.images, target.images), deps.clock.now());
  return stageRollback(scope, {
    ref,
    progress,
    target,
    previous,
    reason,
    fromPartition,
    replicas: sts.replicas,
    ordinalsStart: sts.ordinalsStart,
    maxUnavailable: sts.maxUnavailable,
  });
}

/** Writes the target's template with the partition frozen, recording the rollback's state. */
async function writeTargetTemplate(
  scope: RunScope,
  ref: StatefulSetRef,
  what: { sts: StatefulSetObservation; target: RevisionInfo; previous: string; reason: string },
): Promise<void> {
  const { deps, run } = scope;
  const { sts, target, previous, reason } = what;
  deps.log.info(
    `${ref.namespace}/${ref.name}: rolling back from bad revision ${previous} to target revision ${target.number} (${target.name}), partition held at ${sts.replicas}`,
  );
  const cause = changeCause('rollback', { ...run, reason });
  await deps.cluster.patchStatefulSet(ref, {
    partition: sts.replicas,
    templateFromRevision: target.name,
    restoredRevisionCause: cause,
    annotations: {
      ...encodeState({
        kind: 'rollback',
        phase: 'rolling-back',
        stage: 0,
        targetRevision: target.name,
        previousRevision: previous,
        originalPartition: 0,
        runUrl: run.runUrl,
        commit: run.commit,
        pullRequest: run.pullRequest,
        context: run.contextName,
      }),
      [CHANGE_CAUSE]: cause,
    },
  });
}

interface StagedRollback {
  readonly ref: StatefulSetRef;
  readonly progress: Progress;
  readonly target: RevisionInfo;
  readonly previous: string;
  readonly reason: string;
  readonly fromPartition: number;
  readonly replicas: number;
  readonly ordinalsStart: number;
  readonly maxUnavailable: number | string | undefined;
}

async function stageRollback(scope: RunScope, staged: StagedRollback): Promise<StatefulSetResult> {
  const { deps, settings } = scope;
  const { ref, progress, target, reason, replicas } = staged;
  const deleted: string[] = [];
  const section = (state: 'in-progress' | 'succeeded' | 'failed') =>
    progress.rollback(
      { reason, toRevision: target.name, state, deletedPods: [...deleted] },
      deps.clock.now(),
    );
  section('in-progress');
  const partitions = planPartitions(settings.rollbackSteps, replicas);
  const resumeAt = partitions.findIndex((p) => p <= staged.fromPartition);
  const firstStage = staged.fromPartition >= replicas ? 0 : Math.max(0, resumeAt);
  progress.plan(partitions, replicas, replicas, deps.clock.now(), staged.ordinalsStart);
  deps.log.info(
    `${ref.namespace}/${ref.name}: rollback partitions ${partitions.slice(firstStage).join(' -> ') || '(none)'}, ` +
      unavailableText(staged.maxUnavailable, replicas),
  );
  for (let i = 0; i < firstStage; i++) progress.stage(i + 1, { state: 'passed' }, deps.clock.now());
  const spec: StagedSpec = {
    targetRevision: target.name,
    partitions,
    gate: { soakMs: settings.soakMs, maxRestarts: settings.maxRestarts },
    stageTimeoutMs: settings.stageTimeoutMs,
    unstick: 'any',
    words: { target: 'target', other: 'bad' },
    replicas,
  };
  const hooks: StageHooks = {
    ...stageHooks(progress, 'rolling-back'),
    onPodsDeleted(names: readonly string[]) {
      deleted.push(...names);
      section('in-progress');
    },
  };
  // Rollbacks are not analysed (they go back to a revision that was good); the primary's rule holds.
  const guards = scope.settings.primary
    ? { checks: [], primary: scope.settings.primary, hooks: [] }
    : undefined;
  const outcome =
    partitions.length === 0
      ? undefined
      : await driveStages(deps, ref, spec, firstStage, hooks, scope.signal, undefined, guards);
  section(
    outcome === undefined || outcome.kind === 'complete' || outcome.kind === 'paused'
      ? 'succeeded'
      : 'failed',
  );
  const result = await endManualRollback(deps, staged, outcome, partitions.length);
  await eventHooks(
    scope,
    { ref, progress, target: target.name },
    guardsOf(scope, staged.previous),
    'rollback',
    {
      result: result.result,
      previousRevision: staged.previous,
    },
  );
  return result;
}

/** Records how the manual rollback ended. `undefined`: there were no pods to stage. */
async function endManualRollback(
  deps: RunDeps,
  staged: StagedRollback,
  outcome: StagesOutcome | undefined,
  stages: number,
): Promise<StatefulSetResult> {
  const { ref, progress, target, previous } = staged;
  const ending = { ref, revision: target.name, previous };
  // Stopped before a stage that would restart the primary, with nothing to move the role.
  if (outcome?.kind === 'paused' && outcome.reason !== undefined) {
    await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress('cancelled', outcome.stage + 1) });
    return finishRun(deps, progress, {
      ...ending,
      result: 'halted',
      message: `rollback halted before stage ${outcome.stage + 1}: ${outcome.reason}; then run the rollback again`,
    });
  }
  // A rollback has no pause hook: it never pauses after a stage.
  if (outcome === undefined || outcome.kind === 'complete' || outcome.kind === 'paused') {
    const partition = outcome === undefined ? { partition: 0 } : {};
    await deps.cluster.patchStatefulSet(ref, {
      ...partition,
      annotations: encodeProgress('rolled-back', stages),
    });
    return finishRun(deps, progress, { ...ending, result: 'rolled-back' });
  }
  if (outcome.kind === 'cancelled') {
    await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress('cancelled', outcome.stage) });
    return finishRun(deps, progress, {
      ...ending,
      result: 'cancelled',
      message: `rollback cancelled at stage ${outcome.stage}`,
    });
  }
  const f = outcome.failure;
  progress.failed(f, deps.clock.now());
  await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress('failed', f.stage) });
  const message = `rollback stage ${f.stage} failed: pod ${f.pod} ${f.reason}: ${f.message}; the partition stays where it is`;
  return finishRun(deps, progress, { ...ending, result: 'failed', message });
}
