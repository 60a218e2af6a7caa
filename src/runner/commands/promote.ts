// `promote`: a person lets a rollout paused between stages go on, from the next stage, with the
// stages, soak and gates the rollout was started with (abort, beside it, rolls it back).
import type { Settings } from '../../config/settings.ts';
import { decodePausedAt, decodePlan } from '../../engine/pause.ts';
import { imageChanges } from '../../engine/report.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { newProgress, type RunDeps, type RunScope, type StatefulSetResult } from '../run.ts';
import { stageRollout } from '../stages/rollout.ts';
import { recorded } from './recorded.ts';

export async function promoteStatefulSet(scope: RunScope, ref: StatefulSetRef): Promise<StatefulSetResult> {
  const { deps, settings, run } = scope;
  const { observation, state } = await recorded(deps, ref, 'promote', settings);
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
    { ...scope, settings: started, run: { ...run, pullRequest: run.pullRequest ?? state.pullRequest } },
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
      resumedAfterPause: state.stage,
    },
  );
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
