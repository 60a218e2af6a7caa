// The rollout of a change to a StatefulSet that exists: resume it, or freeze, apply, canary,
// step down, and on failure halt or roll back. Every cluster change goes through the Cluster port.
import { isDeepStrictEqual } from 'node:util';
import type { Observation, StatefulSetObservation } from '../../engine/observation.ts';
import { imageChanges, type RollbackReport } from '../../engine/report.ts';
import { decideStart, type RunStart } from '../../engine/resume.ts';
import { CHANGE_CAUSE, changeCause, decodeState } from '../../engine/state.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { finishRun, newProgress, type RunDeps, type RunScope, type StatefulSetResult } from '../run.ts';
import { eventHooks, guardsOf } from '../stages/events.ts';
import type { Progress } from '../stages/progress.ts';
import { type StagedRollout, stageRollout } from '../stages/rollout.ts';
import { waitForRevision } from '../wait.ts';
import {
  type Manifest,
  maxUnavailableOf,
  refOf,
  replicasOf,
  templateImages,
  templateOf,
  withPartition,
} from './objects.ts';
import { checkStartHealth } from './start-health.ts';

/** What the rollout of a change sends and shows, whichever way it starts. */
interface Change {
  readonly manifest: Manifest;
  /** The StatefulSet as it is now. */
  readonly sts: StatefulSetObservation;
  readonly ref: StatefulSetRef;
  /** The replicas the stages are planned for. */
  readonly replicas: number;
  readonly progress: Progress;
  /** What each apply carries besides the manifest (see `kept`). */
  readonly keep: ReturnType<typeof kept>;
}

/** The rollout of a change to a StatefulSet that exists: resume it, or freeze and apply it. */
export async function updateStatefulSet(
  scope: RunScope,
  update: {
    readonly manifest: Manifest;
    /** The StatefulSet as it is now. */
    readonly sts: StatefulSetObservation;
    /** Known better than the StatefulSet can tell (a StatefulSet recreated over orphaned pods). */
    readonly originalPartition?: number;
    /** An interrupted automatic rollback this run finished first, for the report. */
    readonly finished?: RollbackReport | undefined;
    /** The StatefulSet with its pods, to check their health before anything changes. */
    readonly pods?: Observation;
  },
): Promise<StatefulSetResult> {
  const { deps, run } = scope;
  const { manifest, sts } = update;
  const ref = refOf(manifest.object);
  // A manifest without replicas leaves the count to whoever scales the StatefulSet.
  const replicas = replicasOf(manifest.object) ?? sts.replicas;
  const progress = newProgress(deps, run, ref, 'rollout', replicas);
  if (update.finished) progress.rollback(update.finished, deps.clock.now());
  const start = decideStart({
    kind: 'rollout',
    sts,
    recorded: decodeState(sts.annotations),
    targetIsLive: isDeepStrictEqual(templateOf(manifest.dryRun), sts.template),
    replicas,
  });
  const change: Change = { manifest, sts, ref, replicas, progress, keep: kept(manifest, sts) };
  switch (start.kind) {
    case 'refuse':
      throw new Error(start.message);
    case 'no-change':
      return applyUnchanged(scope, change, start.revision);
    case 'resume':
      return resumeRollout(scope, change, start);
    case 'fresh':
      return freshRollout(scope, change, start, update);
  }
}

/** The template is the live one: apply the rest of the manifest, with the partition as it is. */
async function applyUnchanged(scope: RunScope, change: Change, revision: string): Promise<StatefulSetResult> {
  const { deps } = scope;
  const { manifest, sts, ref, progress, keep } = change;
  await deps.cluster.apply([withPartition(manifest.object, sts.partition, keep.annotations, keep)], {
    dryRun: false,
  });
  deps.log.info(
    `${ref.namespace}/${ref.name}: the pod template is unchanged (revision ${revision}); nothing to roll out`,
  );
  progress.revisions(revision, revision, [], deps.clock.now(), false);
  return finishRun(deps, progress, { ref, result: 'no-change', revision, previous: revision });
}

/** A rollout of this template that an earlier run began: go on from the partition it left. */
async function resumeRollout(
  scope: RunScope,
  change: Change,
  start: Extract<RunStart, { kind: 'resume' }>,
): Promise<StatefulSetResult> {
  const { manifest, sts, ref, keep } = change;
  scope.deps.log.info(
    `${ref.namespace}/${ref.name}: resuming the rollout of ${start.target} at partition ${sts.partition}`,
  );
  await scope.deps.cluster.apply([withPartition(manifest.object, sts.partition, keep.annotations, keep)], {
    dryRun: false,
  });
  return stageRollout(scope, {
    ...staged(change),
    target: start.target,
    previous: start.previous,
    originalPartition: start.originalPartition,
    fromPartition: start.fromPartition,
  });
}

/** A new change: check the pods' health, apply the template frozen, then stage it. */
async function freshRollout(
  scope: RunScope,
  change: Change,
  start: Extract<RunStart, { kind: 'fresh' }>,
  update: { readonly pods?: Observation; readonly originalPartition?: number },
): Promise<StatefulSetResult> {
  const { deps, run } = scope;
  const { manifest, sts, ref, replicas, progress, keep } = change;
  if (update.pods) await checkStartHealth(scope, update.pods, replicas);
  // A failing before-rollout hook (a backup running, a freeze) stops the run before any change.
  const guards = guardsOf(scope, start.previous);
  const refused = await eventHooks(
    scope,
    { ref, progress, target: sts.updateRevision },
    guards,
    'before-rollout',
    // The new revision does not exist before the apply: the event names the live one as previous.
    { revision: undefined },
  );
  if (refused)
    return finishRun(deps, progress, {
      ref,
      result: 'failed',
      revision: undefined,
      previous: start.previous,
      message: `${refused}; nothing was changed`,
    });
  noteSuperseded(deps, progress, sts);
  deps.log.info(
    `${ref.namespace}/${ref.name}: applying the new template with the partition held at ${replicas}`,
  );
  const cause = { [CHANGE_CAUSE]: changeCause('rollout', run) };
  await deps.cluster.apply([withPartition(manifest.object, replicas, cause, keep)], { dryRun: false });
  // Not cancellable: a run never stops between writing a template and recording it on the
  // StatefulSet (a rerun needs the original partition and the previous revision).
  const never = new AbortController().signal;
  const target = (await waitForRevision(deps, ref, undefined, never)).updateRevision;
  return stageRollout(scope, {
    ...staged(change),
    target,
    previous: start.previous,
    originalPartition: update.originalPartition ?? start.originalPartition,
    fromPartition: replicas,
  });
}

/** What a resumed and a fresh rollout stage alike. */
function staged(
  change: Change,
): Omit<StagedRollout, 'target' | 'previous' | 'originalPartition' | 'fromPartition'> {
  const { manifest, sts, ref, replicas, progress } = change;
  return {
    ref,
    progress,
    images: imageChanges(sts.images, templateImages(templateOf(manifest.dryRun))),
    replicas,
    ordinalsStart: sts.ordinalsStart,
    // The dry-run's: the manifest's value as the API server keeps it (dropped with the feature off).
    maxUnavailable: maxUnavailableOf(manifest.dryRun),
  };
}

/** A paused rollout that this new change starts over: say so, here and on its pull request. */
function noteSuperseded(deps: RunDeps, progress: Progress, sts: StatefulSetObservation): void {
  const paused = decodeState(sts.annotations);
  if (paused?.phase !== 'paused') return;
  deps.log.notice(
    `${sts.namespace}/${sts.name}: the rollout of ${paused.targetRevision} paused at stage ${paused.stage}` +
      `${paused.pullRequest ? ` (pull request #${paused.pullRequest})` : ''} is superseded by this change`,
  );
  if (paused.pullRequest !== undefined) {
    const { pullRequest, targetRevision: revision, stage } = paused;
    progress.supersedes({ pullRequest, revision, stage }, deps.clock.now());
  }
}

/**
 * What an apply must carry besides the manifest so it changes nothing the manifest does not
 * set: the live change cause (a server-side apply that stops sending a field it sent before
 * removes it), and the live replicas when the manifest leaves them out but the apply would
 * reset them (our field manager owned them once).
 */
function kept(
  manifest: Manifest,
  sts: StatefulSetObservation,
): { readonly annotations: Record<string, string>; readonly replicas: number | undefined } {
  const cause = sts.annotations[CHANGE_CAUSE];
  const annotations: Record<string, string> = cause === undefined ? {} : { [CHANGE_CAUSE]: cause };
  const dryRunReplicas = (manifest.dryRun.spec as { replicas?: unknown } | undefined)?.replicas;
  const resets = replicasOf(manifest.object) === undefined && dryRunReplicas !== sts.replicas;
  return { annotations, replicas: resets ? sts.replicas : undefined };
}
