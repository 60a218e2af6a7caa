// The stages of a rollout once its template is the StatefulSet's updateRevision: record the
// state, step the partition down gate by gate, and end as the outcome says.
import type { StagedSpec, StageFailure } from '../../engine/decide.ts';
import type { Observation } from '../../engine/observation.ts';
import { encodePausedAt, encodePlan, pausesAfter } from '../../engine/pause.ts';
import { planPartitions, unavailableText } from '../../engine/plan.ts';
import type { ImageChange } from '../../engine/report.ts';
import { encodeProgress, encodeState, type Phase } from '../../engine/state.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { automaticRollback } from '../rollback/automatic.ts';
import { finishRun, type RunDeps, type RunScope, type StatefulSetResult } from '../run.ts';
import { driveStages, type StagesOutcome } from './driver.ts';
import { eventHooks, guardsOf, removeLeftoverJobs } from './events.ts';
import { diagnosisText, stageHooks } from './hooks.ts';
import type { Progress } from './progress.ts';

export interface StagedRollout {
  readonly ref: StatefulSetRef;
  readonly progress: Progress;
  readonly images: readonly ImageChange[];
  /** The revision rolled out (updateRevision). */
  readonly target: string;
  /** The revision to go back to; undefined when there is none to restore (halt instead). */
  readonly previous: string | undefined;
  /** The partition before this change, restored after an automatic rollback. */
  readonly originalPartition: number;
  /** The live partition: `replicas` when frozen, lower when resuming. */
  readonly fromPartition: number;
  readonly replicas: number;
  /** `spec.ordinals.start`: the pods are ordinals start .. start+replicas-1. */
  readonly ordinalsStart: number;
  /** `rollingUpdate.maxUnavailable` as the API server keeps it: how many pods may be down at once. */
  readonly maxUnavailable: number | string | undefined;
  /** Promoted from a pause after this stage (1-based): no pause again up to it. */
  readonly resumedAfterPause?: number;
  /**
   * A GitOps controller applies (apply: false): the partition is parked here at the end of the
   * run, and a rollback replaces pods instead of writing the template back.
   */
  readonly parkAt?: number;
}

export async function stageRollout(scope: RunScope, staged: StagedRollout): Promise<StatefulSetResult> {
  const { deps, settings } = scope;
  const { ref, progress, target, previous, replicas } = staged;
  await recordStart(scope, staged);
  const { partitions, firstStage } = planStages(scope, staged);
  // No pods (replicas 0): nothing to gate; the template is in place for when it scales up.
  if (partitions.length === 0)
    return finishSucceeded(deps, staged, { partition: staged.originalPartition }, 0);
  const spec: StagedSpec = {
    targetRevision: target,
    partitions,
    gate: { soakMs: settings.soakMs, maxRestarts: settings.maxRestarts },
    stageTimeoutMs: settings.stageTimeoutMs,
    diagnoseAfterMs: settings.diagnoseAfterMs,
    // Fixing forward after a halt: a pod stuck on the halted revision would block the controller.
    unstick: 'stale',
    replicas,
  };
  const hooks = {
    ...stageHooks(progress, 'rolling-out'),
    shouldPause: (stage: number) =>
      pausesAfter(settings.pauseAfter, stage, partitions.length, staged.resumedAfterPause),
  };
  const analysis = { checks: settings.analysis, soakMs: settings.soakMs };
  const guards = guardsOf(scope, previous);
  await removeLeftoverJobs(scope, ref);
  const outcome = await driveStages(deps, ref, spec, firstStage, hooks, scope.signal, analysis, guards);
  const result = await endStages(scope, staged, { spec, partitions, outcome });
  await eventHooks(scope, staged, guards, 'after-rollout', { result: result.result });
  return result;
}

/** How the stages ended, recorded and reported. */
async function endStages(
  scope: RunScope,
  staged: StagedRollout,
  ended: {
    readonly spec: StagedSpec;
    readonly partitions: readonly number[];
    readonly outcome: StagesOutcome;
  },
): Promise<StatefulSetResult> {
  const { deps } = scope;
  const { ref, progress, target, previous } = staged;
  const { spec, partitions, outcome } = ended;
  const ending = { ref, revision: target, previous };
  switch (outcome.kind) {
    case 'complete':
      // Parked again (apply: false), so the next sync creates a new revision and restarts no pod.
      return finishSucceeded(
        deps,
        staged,
        staged.parkAt === undefined ? {} : { partition: staged.parkAt },
        partitions.length,
      );
    case 'cancelled':
      await writePhase(deps, ref, 'cancelled', outcome.stage);
      return finishRun(deps, progress, {
        ...ending,
        result: 'cancelled',
        message: `cancelled at stage ${outcome.stage}`,
      });
    case 'failed':
      return stageFailed(scope, staged, { spec, ...outcome });
    case 'paused':
      return stagePaused(deps, staged, partitions, outcome.stage, outcome.reason);
  }
}

/** Every stage passed: recorded, with the partition to leave (if any). */
async function finishSucceeded(
  deps: RunDeps,
  staged: StagedRollout,
  partition: { readonly partition?: number },
  stages: number,
): Promise<StatefulSetResult> {
  const { ref, progress, target, previous } = staged;
  await deps.cluster.patchStatefulSet(ref, {
    ...partition,
    annotations: encodeProgress('succeeded', stages),
    // A revision that failed once and now passed is good again.
    revisionFailures: { [target]: null },
  });
  return finishRun(deps, progress, { ref, revision: target, previous, result: 'succeeded' });
}

/** Stopped after `stage` as pause-after asked: recorded, and said how to go on. */
async function stagePaused(
  deps: RunDeps,
  staged: StagedRollout,
  partitions: readonly number[],
  stage: number,
  reason?: string,
): Promise<StatefulSetResult> {
  const { ref, progress, target, previous } = staged;
  await deps.cluster.patchStatefulSet(ref, {
    annotations: { ...encodeProgress('paused', stage), ...encodePausedAt(deps.clock.now()) },
  });
  const partition = stage === 0 ? staged.fromPartition : partitions[stage - 1];
  const where = reason
    ? `paused before stage ${stage + 1} of ${partitions.length} (${reason})`
    : `paused after stage ${stage} of ${partitions.length}`;
  const how =
    `${where} with the partition at ${partition}: to go on, run command promote (or comment /canary promote on the ` +
    'pull request); to go back, command abort (or /canary abort)';
  deps.log.notice(`${ref.namespace}/${ref.name}: ${how}`);
  return finishRun(deps, progress, { ref, revision: target, previous, result: 'paused', message: how });
}

/** Records the rollout on the StatefulSet, so a rerun resumes and a rollback knows the original partition. */
async function recordStart(scope: RunScope, staged: StagedRollout): Promise<void> {
  const { deps, settings, run } = scope;
  const { ref, progress, target, previous } = staged;
  const state = encodeState({
    kind: 'rollout',
    phase: 'rolling-out',
    stage: 0,
    targetRevision: target,
    previousRevision: previous ?? target,
    originalPartition: staged.originalPartition,
    runUrl: run.runUrl,
    commit: run.commit,
    pullRequest: run.pullRequest,
    context: run.contextName,
  });
  // What `promote` goes on with after a pause: the same stages, soak and gates.
  const plan = encodePlan({
    steps: settings.steps,
    soakMs: settings.soakMs,
    stageTimeoutMs: settings.stageTimeoutMs,
    maxRestarts: settings.maxRestarts,
    pauseAfter: settings.pauseAfter,
  });
  await deps.cluster.patchStatefulSet(ref, {
    annotations: { ...state, ...plan, ...encodePausedAt(undefined) },
  });
  progress.revisions(previous, target, staged.images, deps.clock.now());
}

/**
 * The partitions of the plan and the stage to start at: a resumed run starts at the stage in
 * progress (its partition already written) and gates it again; stages above it passed in the
 * run that stopped.
 */
function planStages(scope: RunScope, staged: StagedRollout): { partitions: number[]; firstStage: number } {
  const { deps, settings } = scope;
  const { ref, progress, target, previous, replicas, fromPartition } = staged;
  const partitions = planPartitions(settings.steps, replicas);
  const resumeAt = partitions.findIndex((p) => p <= fromPartition);
  const firstStage = fromPartition >= replicas ? 0 : Math.max(0, resumeAt);
  progress.plan(partitions, replicas, replicas, deps.clock.now(), staged.ordinalsStart);
  for (let i = 0; i < firstStage; i++) progress.stage(i + 1, { state: 'passed' }, deps.clock.now());
  const ahead = partitions.slice(firstStage);
  const route = (ahead[0] === fromPartition ? ahead : [fromPartition, ...ahead]).join(' -> ');
  const start = staged.ordinalsStart;
  const ordinals =
    start === 0 || replicas === 0
      ? ''
      : ` (ordinals ${start}..${start + replicas - 1}: a partition counts from ordinal ${start})`;
  deps.log.info(
    `${ref.namespace}/${ref.name}: ${previous ?? '(none)'} -> ${target}, ${replicas} replicas${ordinals}, partitions ${route}, ` +
      unavailableText(staged.maxUnavailable, replicas),
  );
  // Steps can collapse with few replicas (a stage that moves no pod is dropped).
  for (const check of settings.analysis) {
    const beyond = check.stages?.filter((stage) => stage > partitions.length) ?? [];
    if (beyond.length === 0) continue;
    deps.log.warning(
      `Analysis check ${check.name} names stage ${beyond.join(', ')}, but ${ref.namespace}/${ref.name} has ` +
        `${partitions.length} stage(s) with ${replicas} replicas: it does not run there`,
    );
  }
  return { partitions, firstStage };
}

/** A failed stage: halt where a person must decide, else roll back. */
async function stageFailed(
  scope: RunScope,
  staged: StagedRollout,
  failed: { readonly spec: StagedSpec; readonly failure: StageFailure; readonly observation: Observation },
): Promise<StatefulSetResult> {
  const { deps, settings } = scope;
  const { ref, progress, target, previous } = staged;
  const { spec, failure, observation } = failed;
  progress.failed(failure, deps.clock.now());
  const where = failure.pod
    ? `pod ${ref.namespace}/${failure.pod}${failure.container ? `, container ${failure.container}` : ''}: `
    : '';
  const message = `stage ${failure.stage} failed: ${where}${failure.reason}: ${failure.message}${diagnosisText(failure)}`;
  deps.log.warning(`${ref.namespace}/${ref.name}: ${message}`);
  const foreign = await stopForeignChange(deps, ref, spec, failure, observation);
  const halt = foreign !== undefined || settings.onFailure === 'halt' || previous === undefined;
  if (halt) {
    await writePhase(deps, ref, 'halted', failure.stage);
    const why =
      foreign ??
      (previous === undefined
        ? 'halted: there is no previous revision to roll back to'
        : 'halted with the partition where the stage put it');
    return finishRun(deps, progress, {
      ref,
      result: 'halted',
      revision: target,
      previous,
      message: `${message}; ${why}`,
    });
  }
  return automaticRollback(scope, {
    ref,
    progress,
    failed: { target, previous, originalPartition: staged.originalPartition, message },
    observation,
    byPods: staged.parkAt !== undefined,
  });
}

/**
 * Someone else changed the StatefulSet under the rollout. Their template is theirs: rolling back
 * would silently undo it. A partition or replica count they changed lets the controller update
 * pods no stage gated: put the partition back so it updates no more, and say which pods it did.
 */
async function stopForeignChange(
  deps: RunDeps,
  ref: StatefulSetRef,
  spec: StagedSpec,
  failure: StageFailure,
  observation: Observation,
): Promise<string | undefined> {
  const held = spec.partitions[failure.stage - 1] ?? 0;
  const live = observation.statefulSet;
  switch (failure.reason) {
    case 'RevisionChanged':
      return 'halted: the other change is left in place';
    case 'PartitionChanged':
    case 'ReplicasChanged': {
      // New pods above the old count must start on the current revision: freeze up to the new count.
      const partition = Math.max(held, failure.reason === 'ReplicasChanged' ? live.replicas : held);
      await deps.cluster.patchStatefulSet(ref, { partition });
      const after = await deps.cluster.observe(ref);
      const ungated = (after?.pods ?? observation.pods)
        // Gated: the pods the stages so far covered, indexes [held, planned replicas).
        .filter((p) => p.revision === spec.targetRevision && (p.index < held || p.index >= spec.replicas))
        .map((p) => p.name);
      return (
        `halted: the partition is set back to ${partition} so the controller updates no pod the rollout did not gate` +
        (ungated.length > 0 ? `; updated without a gate meanwhile: ${ungated.join(', ')}` : '') +
        '. Run the rollout again to go on from there.'
      );
    }
    default:
      return undefined;
  }
}

async function writePhase(deps: RunDeps, ref: StatefulSetRef, phase: Phase, stage: number): Promise<void> {
  await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress(phase, stage) });
}
