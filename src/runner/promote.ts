// `promote` and `abort`: what a person does with a rollout paused between stages (or halted).
// Promote goes on from the next stage with the stages, soak and gates the rollout was started
// with; abort rolls it back as an automatic rollback does.
import type { Settings } from '../config/settings.ts';
import type { Observation } from '../engine/observation.ts';
import { decodePausedAt, decodePlan } from '../engine/pause.ts';
import { imageChanges } from '../engine/report.ts';
import { decodeState, type RecordedState } from '../engine/state.ts';
import type { StatefulSetRef } from '../ports/cluster.ts';
import { newProgress, type RunContext, type RunDeps, type StatefulSetResult } from './common.ts';
import { rollBackFailedStage } from './recover.ts';
import { stageRollout } from './staging.ts';

/** A command that cannot act on the StatefulSet as it is; nothing was changed. */
class NothingToDoError extends Error {
  override name = 'NothingToDoError';
}

async function recorded(
  deps: RunDeps,
  ref: StatefulSetRef,
  command: 'promote' | 'abort',
): Promise<{ observation: Observation; state: RecordedState }> {
  const where = `StatefulSet ${ref.namespace}/${ref.name}`;
  const observation = await deps.cluster.observe(ref);
  if (!observation)
    throw new NothingToDoError(`${where} was not found: check the statefulset and namespace inputs`);
  const state = decodeState(observation.statefulSet.annotations);
  if (state?.kind !== 'rollout') {
    throw new NothingToDoError(
      `${where} has no rollout recorded by statefulset-canary: there is nothing to ${command}`,
    );
  }
  const wanted = command === 'promote' ? ['paused'] : ['paused', 'halted'];
  if (!wanted.includes(state.phase)) {
    throw new NothingToDoError(
      command === 'promote'
        ? `${where} is not paused (its rollout is ${state.phase} at stage ${state.stage}): promote goes on with a paused rollout only`
        : `${where} has no paused or halted rollout (it is ${state.phase}): nothing to abort. To go back from a finished rollout, use command rollback.`,
    );
  }
  const live = observation.statefulSet.updateRevision;
  if (live !== state.targetRevision) {
    throw new NothingToDoError(
      `${where}: its template changed since the rollout of ${state.targetRevision} (updateRevision is now ${live}): ` +
        `${command} would act on a change nobody gated. Run the rollout of the new change instead.`,
    );
  }
  return { observation, state };
}

export async function promoteStatefulSet(
  deps: RunDeps,
  settings: Settings,
  run: RunContext,
  ref: StatefulSetRef,
  signal: AbortSignal,
): Promise<StatefulSetResult> {
  const { observation, state } = await recorded(deps, ref, 'promote');
  const sts = observation.statefulSet;
  const plan = decodePlan(sts.annotations);
  // The stages, soak and gates the rollout was started with, not this run's inputs.
  const started: Settings = plan ? { ...settings, ...plan } : settings;
  const since = decodePausedAt(sts.annotations);
  const waited =
    since === undefined ? '' : ` (paused for ${Math.round((deps.clock.now() - since) / 1000)} s)`;
  deps.log.info(
    `${ref.namespace}/${ref.name}: promoting the rollout of ${state.targetRevision} from stage ${state.stage}${waited}`,
  );
  return stageRollout(
    deps,
    started,
    { ...run, pullRequest: run.pullRequest ?? state.pullRequest },
    {
      ref,
      progress: newProgress(deps, run, ref, 'rollout', sts.replicas),
      images: imageChanges(await imagesOf(deps, ref, state.previousRevision), sts.images),
      target: state.targetRevision,
      previous: state.previousRevision,
      originalPartition: state.originalPartition,
      fromPartition: sts.partition,
      replicas: sts.replicas,
      ordinalsStart: sts.ordinalsStart,
      maxUnavailable: sts.maxUnavailable,
      signal,
      resumedAfterPause: state.stage,
    },
  );
}

export async function abortStatefulSet(
  deps: RunDeps,
  settings: Settings,
  run: RunContext,
  ref: StatefulSetRef,
): Promise<StatefulSetResult> {
  const { observation, state } = await recorded(deps, ref, 'abort');
  const message = `aborted by ${run.runUrl ?? 'the command line'} at stage ${state.stage} (${state.phase})${
    settings.reason ? `: ${settings.reason}` : ''
  }`;
  deps.log.info(`${ref.namespace}/${ref.name}: ${message}; rolling back to ${state.previousRevision}`);
  const progress = newProgress(
    deps,
    { ...run, pullRequest: run.pullRequest ?? state.pullRequest },
    ref,
    'rollout',
    observation.statefulSet.replicas,
  );
  progress.revisions(state.previousRevision, state.targetRevision, [], deps.clock.now());
  return rollBackFailedStage(deps, settings, run, {
    ref,
    progress,
    failed: {
      target: state.targetRevision,
      previous: state.previousRevision,
      originalPartition: state.originalPartition,
      message,
    },
    observation,
  });
}

/** The images of a revision (the one a promoted rollout started from), for the report. */
async function imagesOf(
  deps: RunDeps,
  ref: StatefulSetRef,
  revision: string,
): Promise<Record<string, string>> {
  const found = (await deps.cluster.revisions(ref)).find((r) => r.name === revision);
  return { ...(found?.images ?? {}) };
}
