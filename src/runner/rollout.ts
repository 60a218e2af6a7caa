// The staged canary rollout of one StatefulSet: freeze, apply, canary, step down, and on
// failure halt or roll back. Every cluster change goes through the Cluster port.
import { isDeepStrictEqual } from 'node:util';
import type { Settings } from '../config/settings.ts';
import type { StagedSpec } from '../engine/decide.ts';
import { planPartitions } from '../engine/plan.ts';
import type { ImageChange } from '../engine/report.ts';
import {
  CHANGE_CAUSE,
  changeCause,
  decodeState,
  encodeProgress,
  encodeState,
  type Phase,
} from '../engine/state.ts';
import type { KubeObject, StatefulSetRef } from '../ports/cluster.ts';
import {
  finish,
  newProgress,
  type RunContext,
  type RunDeps,
  type StatefulSetResult,
  stageHooks,
  waitForRevision,
} from './common.ts';
import { refOf, replicasOf, templateImages, templateOf, withPartition } from './objects.ts';
import { rollBackFailedStage } from './recover.ts';
import { driveStages } from './stages.ts';

/**
 * Rolls `object` (a validated StatefulSet manifest) out as a staged canary.
 * `dryRun` is the same object as the API server's dry-run returned it (defaulted).
 */
export async function rolloutStatefulSet(
  deps: RunDeps,
  settings: Settings,
  run: RunContext,
  object: KubeObject,
  dryRun: KubeObject,
  signal: AbortSignal,
): Promise<StatefulSetResult> {
  const ref = refOf(object);
  const replicas = replicasOf(object);
  const progress = newProgress(deps, run, ref, 'rollout', replicas);
  const before = await deps.cluster.observe(ref);
  const cause = changeCause('rollout', run);

  if (before === undefined) return createStatefulSet(deps, settings, run, object, progress, signal);

  const newImages = templateImages(templateOf(dryRun));
  const images = imageChanges(before.statefulSet.images, newImages);
  const recorded = decodeState(before.statefulSet.annotations);
  const templateChanged = !isDeepStrictEqual(templateOf(dryRun), before.statefulSet.template);
  const sts = before.statefulSet;

  if (!templateChanged && sts.currentRevision === sts.updateRevision) {
    await deps.cluster.apply([withPartition(object, sts.partition)], { dryRun: false });
    deps.log.info(
      `${ref.namespace}/${ref.name}: the pod template is unchanged (revision ${sts.currentRevision}); nothing to roll out`,
    );
    progress.revisions(sts.currentRevision, sts.currentRevision, [], deps.clock.now(), false);
    return finish(deps, progress, ref, 'no-change', sts.currentRevision, sts.currentRevision);
  }

  let target: string;
  let previous: string;
  let originalPartition: number;
  let fromPartition: number;
  if (!templateChanged) {
    // Same change as a run that stopped part-way: resume where it stopped.
    target = sts.updateRevision;
    previous = recorded?.targetRevision === target ? recorded.previousRevision : sts.currentRevision;
    originalPartition = recorded?.targetRevision === target ? recorded.originalPartition : 0;
    deps.log.info(
      `${ref.namespace}/${ref.name}: resuming the rollout of ${target} at partition ${sts.partition}`,
    );
    await deps.cluster.apply([withPartition(object, sts.partition)], { dryRun: false });
    fromPartition = Math.min(sts.partition, replicas);
  } else {
    previous = sts.currentRevision;
    originalPartition =
      resumable(recorded?.phase) && recorded ? recorded.originalPartition : Math.min(sts.partition, replicas);
    deps.log.info(
      `${ref.namespace}/${ref.name}: applying the new template with the partition held at ${replicas}`,
    );
    await deps.cluster.apply([withPartition(object, replicas, { [CHANGE_CAUSE]: cause })], { dryRun: false });
    target = (await waitForRevision(deps, ref, undefined, signal)).statefulSet.updateRevision;
    fromPartition = replicas;
  }
  const state = { targetRevision: target, previousRevision: previous, originalPartition, ...runFields(run) };
  await deps.cluster.patchStatefulSet(ref, {
    annotations: encodeState({ ...state, phase: 'rolling-out', stage: 0 }),
  });
  progress.revisions(previous, target, images, deps.clock.now());

  const partitions = planPartitions(settings.steps, replicas);
  // A resumed run starts at the stage in progress (its partition already written) and
  // gates it again; stages above it passed in the run that stopped.
  const resumeAt = partitions.findIndex((p) => p <= fromPartition);
  const firstStage = fromPartition >= replicas ? 0 : Math.max(0, resumeAt);
  progress.plan(partitions, replicas, replicas, deps.clock.now());
  for (let i = 0; i < firstStage; i++) progress.stage(i + 1, { state: 'passed' }, deps.clock.now());
  deps.log.info(
    `${ref.namespace}/${ref.name}: ${previous} -> ${target}, ${replicas} replicas, partitions ${[fromPartition, ...partitions.slice(firstStage)].join(' -> ')}`,
  );
  if (partitions.length === 0) return finish(deps, progress, ref, 'succeeded', target, previous);

  const spec: StagedSpec = {
    targetRevision: target,
    partitions,
    gate: { soakMs: settings.soakMs, maxRestarts: settings.maxRestarts },
    stageTimeoutMs: settings.stageTimeoutMs,
    unstick: false,
  };
  const outcome = await driveStages(deps, ref, spec, firstStage, stageHooks(progress, 'rolling-out'), signal);
  switch (outcome.kind) {
    case 'complete':
      await writePhase(deps, ref, 'succeeded', partitions.length);
      return finish(deps, progress, ref, 'succeeded', target, previous);
    case 'cancelled':
      await writePhase(deps, ref, 'cancelled', outcome.stage);
      return finish(
        deps,
        progress,
        ref,
        'cancelled',
        target,
        previous,
        `cancelled at stage ${outcome.stage}`,
      );
    case 'failed': {
      const { failure } = outcome;
      progress.failed(failure, deps.clock.now());
      const where = failure.pod
        ? `pod ${ref.namespace}/${failure.pod}${failure.container ? `, container ${failure.container}` : ''}: `
        : '';
      const message = `stage ${failure.stage} failed: ${where}${failure.reason}: ${failure.message}`;
      deps.log.warning(`${ref.namespace}/${ref.name}: ${message}`);
      // A template someone else wrote is theirs: rolling back would silently undo it.
      if (settings.onFailure === 'halt' || failure.reason === 'RevisionChanged') {
        await writePhase(deps, ref, 'halted', failure.stage);
        return finish(
          deps,
          progress,
          ref,
          'halted',
          target,
          previous,
          `${message}; halted with the partition where the stage put it`,
        );
      }
      return rollBackFailedStage(
        deps,
        settings,
        run,
        ref,
        { target, previous, originalPartition, message },
        progress,
        outcome.observation,
      );
    }
  }
}

async function createStatefulSet(
  deps: RunDeps,
  settings: Settings,
  run: RunContext,
  object: KubeObject,
  progress: ReturnType<typeof newProgress>,
  signal: AbortSignal,
): Promise<StatefulSetResult> {
  const ref = refOf(object);
  deps.log.info(
    `${ref.namespace}/${ref.name}: new StatefulSet; creating it (no canary stages: there is no previous revision)`,
  );
  await deps.cluster.apply([withPartition(object, 0, { [CHANGE_CAUSE]: changeCause('rollout', run) })], {
    dryRun: false,
  });
  const observed = await waitForRevision(deps, ref, undefined, signal);
  const target = observed.statefulSet.updateRevision;
  progress.revisions(undefined, target, imageChanges({}, observed.statefulSet.images), deps.clock.now());
  progress.plan([0], replicasOf(object), replicasOf(object), deps.clock.now());
  const spec: StagedSpec = {
    targetRevision: target,
    partitions: [0],
    gate: { soakMs: 0, maxRestarts: settings.maxRestarts },
    stageTimeoutMs: settings.stageTimeoutMs,
    unstick: false,
  };
  const outcome = await driveStages(deps, ref, spec, 0, stageHooks(progress, 'rolling-out'), signal);
  if (outcome.kind === 'complete') return finish(deps, progress, ref, 'created', target, undefined);
  if (outcome.kind === 'cancelled')
    return finish(deps, progress, ref, 'cancelled', target, undefined, 'cancelled while creating');
  progress.failed(outcome.failure, deps.clock.now());
  const f = outcome.failure;
  return finish(
    deps,
    progress,
    ref,
    'failed',
    target,
    undefined,
    `new StatefulSet did not become Ready: ${f.pod} ${f.reason}: ${f.message}`,
  );
}

function resumable(phase: Phase | undefined): boolean {
  return phase === 'rolling-out' || phase === 'cancelled' || phase === 'halted' || phase === 'rolling-back';
}

function runFields(run: RunContext) {
  return { runUrl: run.runUrl, commit: run.commit, pullRequest: run.pullRequest };
}

async function writePhase(deps: RunDeps, ref: StatefulSetRef, phase: Phase, stage: number): Promise<void> {
  await deps.cluster.patchStatefulSet(ref, { annotations: encodeProgress(phase, stage) });
}

export function imageChanges(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): ImageChange[] {
  return Object.entries(after)
    .filter(([name, image]) => before[name] !== image)
    .map(([container, to]) => ({ container, from: before[container], to }));
}
