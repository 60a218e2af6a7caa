// Manual rollback (workflow_dispatch): restore an earlier revision's template from its
// ControllerRevision with the partition frozen, then step it down with the rollback stages.

import type { Settings } from '../config/settings.ts';
import type { StagedSpec } from '../engine/decide.ts';
import type { RevisionInfo } from '../engine/observation.ts';
import { planPartitions } from '../engine/plan.ts';
import { CHANGE_CAUSE, changeCause, encodeProgress, encodeState } from '../engine/state.ts';
import type { StatefulSetRef } from '../ports/cluster.ts';
import {
  finish,
  newProgress,
  type RunContext,
  type RunDeps,
  type StatefulSetResult,
  stageHooks,
  waitForRevision,
} from './common.ts';
import { imageChanges } from './rollout.ts';
import { driveStages } from './stages.ts';

export class RollbackTargetError extends Error {
  override name = 'RollbackTargetError';
}

/** The revision to go back to: `toRevision` by number, else the newest one before the current. */
export function chooseTarget(
  revisions: readonly RevisionInfo[],
  current: string,
  toRevision: number | undefined,
  ref: StatefulSetRef,
): RevisionInfo {
  const available = revisions
    .map((r) => `${r.number} (${r.name}${r.changeCause ? `: ${r.changeCause}` : ''})`)
    .join(', ');
  const where = `StatefulSet ${ref.namespace}/${ref.name}`;
  if (toRevision !== undefined) {
    const found = revisions.find((r) => r.number === toRevision);
    if (found) return found;
    throw new RollbackTargetError(
      `${where} has no revision ${toRevision} (pruned by revisionHistoryLimit, or never existed). ` +
        `Revisions available: ${available || 'none'}. Set to-revision to one of them, or leave it empty for the previous one.`,
    );
  }
  const currentNumber = revisions.find((r) => r.name === current)?.number ?? Number.POSITIVE_INFINITY;
  const earlier = revisions.filter((r) => r.name !== current && r.number < currentNumber);
  const previous = earlier[earlier.length - 1];
  if (previous) return previous;
  throw new RollbackTargetError(
    `${where} has no revision before its current one (${current}) to roll back to. Revisions available: ${available || 'none'}.`,
  );
}

export async function rollbackStatefulSet(
  deps: RunDeps,
  settings: Settings,
  run: RunContext,
  ref: StatefulSetRef,
  signal: AbortSignal,
): Promise<StatefulSetResult> {
  const before = await deps.cluster.observe(ref);
  if (!before) {
    throw new RollbackTargetError(
      `StatefulSet ${ref.namespace}/${ref.name} was not found: check the statefulset and namespace inputs`,
    );
  }
  const sts = before.statefulSet;
  const target = chooseTarget(
    await deps.cluster.revisions(ref),
    sts.updateRevision,
    settings.toRevision,
    ref,
  );
  const progress = newProgress(deps, run, ref, 'rollback', sts.replicas);
  if (target.name === sts.updateRevision && sts.currentRevision === sts.updateRevision) {
    deps.log.info(
      `${ref.namespace}/${ref.name} already runs revision ${target.number} (${target.name}); nothing to roll back`,
    );
    progress.revisions(target.name, target.name, [], deps.clock.now(), false);
    return finish(deps, progress, ref, 'no-change', target.name, target.name);
  }
  const previous = sts.updateRevision;
  const reason = `back to revision ${target.number}${settings.reason ? `: ${settings.reason}` : ''}`;
  deps.log.info(
    `${ref.namespace}/${ref.name}: rolling back from ${previous} to revision ${target.number} (${target.name}), partition held at ${sts.replicas}`,
  );
  const cause = changeCause('rollback', { ...run, reason });
  await deps.cluster.patchStatefulSet(ref, {
    partition: sts.replicas,
    templateFromRevision: target.name,
    restoredRevisionCause: cause,
    annotations: {
      ...encodeState({
        phase: 'rolling-back',
        stage: 0,
        targetRevision: target.name,
        previousRevision: previous,
        originalPartition: 0,
        runUrl: run.runUrl,
        commit: run.commit,
        pullRequest: run.pullRequest,
      }),
      [CHANGE_CAUSE]: cause,
    },
  });
  await waitForRevision(deps, ref, target.name, signal);
  progress.revisions(previous, target.name, imageChanges(sts.images, target.images), deps.clock.now());
  const deleted: string[] = [];
  const section = (state: 'in-progress' | 'succeeded' | 'failed') =>
    progress.rollback(
      { reason, toRevision: target.name, state, deletedPods: [...deleted] },
      deps.clock.now(),
    );
  section('in-progress');
  const partitions = planPartitions(settings.rollbackSteps, sts.replicas);
  progress.plan(partitions, sts.replicas, sts.replicas, deps.clock.now());
  const spec: StagedSpec = {
    targetRevision: target.name,
    partitions,
    gate: { soakMs: settings.soakMs, maxRestarts: settings.maxRestarts },
    stageTimeoutMs: settings.stageTimeoutMs,
    unstick: true,
  };
  const hooks = {
    ...stageHooks(progress, 'rolling-back'),
    onPodsDeleted(names: readonly string[]) {
      deleted.push(...names);
      section('in-progress');
    },
  };
  const outcome = await driveStages(deps, ref, spec, 0, hooks, signal);
  section(outcome.kind === 'complete' ? 'succeeded' : 'failed');
  switch (outcome.kind) {
    case 'complete':
      await deps.cluster.patchStatefulSet(ref, {
        annotations: encodeProgress('rolled-back', partitions.length),
      });
      return finish(deps, progress, ref, 'rolled-back', target.name, previous);
    case 'cancelled':
      await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress('cancelled', outcome.stage) });
      return finish(
        deps,
        progress,
        ref,
        'cancelled',
        target.name,
        previous,
        `rollback cancelled at stage ${outcome.stage}`,
      );
    case 'failed': {
      const f = outcome.failure;
      progress.failed(f, deps.clock.now());
      await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress('failed', f.stage) });
      const message = `rollback stage ${f.stage} failed: pod ${f.pod} ${f.reason}: ${f.message}; the partition stays where it is`;
      return finish(deps, progress, ref, 'failed', target.name, previous, message);
    }
  }
}
