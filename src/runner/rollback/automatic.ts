// Automatic rollback of a failed canary: freeze, restore the previous revision's template
// from its ControllerRevision, unstick pods the controller will not replace, restore the partition.
import type { StagedSpec } from '../../engine/decide.ts';
import type { Observation } from '../../engine/observation.ts';
import { CHANGE_CAUSE, changeCause, encodeProgress } from '../../engine/state.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { finishRun, type RunDeps, type RunScope, type StatefulSetResult } from '../run.ts';
import { driveStages, type StagesOutcome } from '../stages/driver.ts';
import { eventHooks, guardsOf } from '../stages/events.ts';
import type { StageHooks } from '../stages/hooks.ts';
import type { Progress } from '../stages/progress.ts';
import { waitForRevision } from '../wait.ts';

interface FailedRollout {
  readonly target: string;
  readonly previous: string;
  readonly originalPartition: number;
  /** Why the rollout failed. */
  readonly message: string;
}

export interface AutomaticRollback {
  readonly ref: StatefulSetRef;
  readonly progress: Progress;
  readonly failed: FailedRollout;
  /** The observation the stage failed on. */
  readonly observation: Observation;
  /**
   * Roll back by replacing pods, never by writing the template (a GitOps controller applies it
   * and would write the bad one again: the two would loop). With the partition parked above every
   * pod, the controller recreates a deleted pod from currentRevision, the previous revision.
   */
  readonly byPods?: boolean;
}

/** Writes the previous revision's template back, marking the failed one so a later rollback skips it. */
async function writePreviousTemplate(scope: RunScope, rollback: AutomaticRollback): Promise<void> {
  const { deps, run } = scope;
  const { failed, ref } = rollback;
  const cause = changeCause('rollback', { ...run, reason: `canary failed: ${failed.message}`.slice(0, 200) });
  await deps.cluster.patchStatefulSet(ref, {
    templateFromRevision: failed.previous,
    restoredRevisionCause: cause,
    annotations: { ...encodeProgress('rolling-back', 0), [CHANGE_CAUSE]: cause },
    revisionFailures: { [failed.target]: failed.message },
  });
}

export async function automaticRollback(
  scope: RunScope,
  rollback: AutomaticRollback,
): Promise<StatefulSetResult> {
  const { deps, settings } = scope;
  const { ref, progress, failed } = rollback;
  // Held where the failing stage put it: pods below it never left the previous revision.
  const partition = rollback.observation.statefulSet.partition;
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
  // Cancellation must not leave a half-done rollback: it runs to its end or its own time limit.
  const never = new AbortController().signal;
  if (rollback.byPods) {
    await deps.cluster.patchStatefulSet(ref, {
      partition: failed.originalPartition,
      annotations: encodeProgress('rolling-back', 0),
      revisionFailures: { [failed.target]: failed.message },
    });
  } else {
    await writePreviousTemplate(scope, rollback);
    await waitForRevision(deps, ref, failed.previous, never);
  }
  const spec: StagedSpec = {
    targetRevision: failed.previous,
    partitions: [rollback.byPods ? failed.originalPartition : partition],
    gate: { soakMs: 0, maxRestarts: Number.MAX_SAFE_INTEGER },
    stageTimeoutMs: settings.rollbackTimeoutMs,
    unstick: rollback.byPods ? 'replace' : 'any',
    words: { target: 'target', other: 'bad' },
    gateAll: rollback.byPods === true,
    replicas: rollback.observation.statefulSet.replicas,
  };
  const hooks: StageHooks = {
    onStageStart() {},
    onStagePassed() {},
    onPodsDeleted(names: readonly string[]) {
      deleted.push(...names);
      report('in-progress');
    },
    partitionChange: () => ({}),
  };
  deps.log.startGroup(
    `Rollback of ${ref.namespace}/${ref.name}: target revision ${failed.previous}, bad revision ${failed.target}`,
  );
  // The primary moves out of the way when a switchover can move it; a rollback never pauses.
  const primary = scope.settings.primary?.switchover ? scope.settings.primary : undefined;
  const guards = primary ? { checks: [], primary, hooks: [] } : undefined;
  const outcome = await driveStages(deps, ref, spec, 0, hooks, never, undefined, guards);
  const result = await endAutomaticRollback(deps, rollback, outcome, report);
  await eventHooks(
    scope,
    { ref, progress: rollback.progress, target: failed.previous },
    guardsOf(scope, failed.target),
    'rollback',
    {
      result: result.result,
      previousRevision: failed.target,
    },
  );
  return result;
}

/** Records how the rollback ended: the original partition back on success. */
async function endAutomaticRollback(
  deps: RunDeps,
  rollback: AutomaticRollback,
  outcome: StagesOutcome,
  report: (state: 'succeeded' | 'failed') => void,
): Promise<StatefulSetResult> {
  const { ref, progress, failed } = rollback;
  if (outcome.kind !== 'complete') {
    report('failed');
    await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress('failed', 0) });
    const why =
      outcome.kind === 'failed'
        ? `${outcome.failure.pod} ${outcome.failure.reason}: ${outcome.failure.message}`
        : 'cancelled';
    return finishRun(deps, progress, {
      ref,
      revision: failed.target,
      previous: failed.previous,
      result: 'failed',
      message: `${failed.message}; the rollback did not finish within rollback-timeout either: ${why}`,
    });
  }
  await deps.cluster.patchStatefulSet(ref, {
    partition: failed.originalPartition,
    annotations: encodeProgress('rolled-back', 0),
  });
  report('succeeded');
  return finishRun(deps, progress, {
    ref,
    revision: failed.previous,
    previous: failed.target,
    result: 'rolled-back',
    message: rollback.byPods
      ? `${failed.message}; its pods were replaced by pods of ${failed.previous} (the template was left to the ` +
        'GitOps controller: Git still holds the failed change, so revert it there; the partition stays parked, ' +
        'so a sync of the same template restarts no pod)'
      : `${failed.message}; rolled back to ${failed.previous}`,
  });
}
