// Automatic rollback of a failed canary: freeze, restore the previous revision's template
// from its ControllerRevision, unstick pods the controller will not replace, restore the partition.

import type { Settings } from '../config/settings.ts';
import type { StagedSpec } from '../engine/decide.ts';
import type { Observation } from '../engine/observation.ts';
import { CHANGE_CAUSE, changeCause, encodeProgress } from '../engine/state.ts';
import type { StatefulSetRef } from '../ports/cluster.ts';
import { finish, type RunContext, type RunDeps, type StatefulSetResult, waitForRevision } from './common.ts';
import type { Progress } from './progress.ts';
import { driveStages } from './stages.ts';

export interface FailedRollout {
  readonly target: string;
  readonly previous: string;
  readonly originalPartition: number;
  /** Why the rollout failed. */
  readonly message: string;
}

export async function rollBackFailedStage(
  deps: RunDeps,
  settings: Settings,
  run: RunContext,
  ref: StatefulSetRef,
  failed: FailedRollout,
  progress: Progress,
  observation: Observation,
): Promise<StatefulSetResult> {
  // Held where the failing stage put it: pods below it never left the previous revision.
  const partition = observation.statefulSet.partition;
  const deleted: string[] = [];
  const report = (state: 'in-progress' | 'succeeded' | 'failed') =>
    progress.rollback(
      { reason: failed.message, toRevision: failed.previous, state, deletedPods: [...deleted] },
      deps.clock.now(),
    );
  report('in-progress');
  deps.log.info(
    `${ref.namespace}/${ref.name}: rolling back to ${failed.previous} (partition held at ${partition})`,
  );
  // Cancellation must not leave a half-done rollback: it runs to its end or its timeout.
  const never = new AbortController().signal;
  const cause = changeCause('rollback', { ...run, reason: `canary failed: ${failed.message}`.slice(0, 200) });
  await deps.cluster.patchStatefulSet(ref, {
    templateFromRevision: failed.previous,
    restoredRevisionCause: cause,
    annotations: { ...encodeProgress('rolling-back', 0), [CHANGE_CAUSE]: cause },
  });
  await waitForRevision(deps, ref, failed.previous, never);
  const spec: StagedSpec = {
    targetRevision: failed.previous,
    partitions: [partition],
    gate: { soakMs: 0, maxRestarts: Number.MAX_SAFE_INTEGER },
    stageTimeoutMs: settings.stageTimeoutMs,
    unstick: true,
  };
  const hooks = {
    onStageStart() {},
    onStagePassed() {},
    onPodsDeleted(names: readonly string[]) {
      deleted.push(...names);
      report('in-progress');
    },
    partitionChange: () => ({}),
  };
  deps.log.startGroup(`Rollback of ${ref.namespace}/${ref.name} to ${failed.previous}`);
  const outcome = await driveStages(deps, ref, spec, 0, hooks, never);
  if (outcome.kind !== 'complete') {
    report('failed');
    await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress('failed', 0) });
    const why =
      outcome.kind === 'failed'
        ? `${outcome.failure.pod} ${outcome.failure.reason}: ${outcome.failure.message}`
        : 'cancelled';
    return finish(
      deps,
      progress,
      ref,
      'failed',
      failed.target,
      failed.previous,
      `${failed.message}; the rollback did not finish either: ${why}`,
    );
  }
  await deps.cluster.patchStatefulSet(ref, {
    partition: failed.originalPartition,
    annotations: encodeProgress('rolled-back', 0),
  });
  report('succeeded');
  const message = `${failed.message}; rolled back to ${failed.previous}`;
  return finish(deps, progress, ref, 'rolled-back', failed.previous, failed.target, message);
}
