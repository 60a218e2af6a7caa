// An automatic rollback that an earlier run began and never finished: the run was killed
// (SIGKILL, a lost runner) after it wrote the previous template back and before it restored the
// partition, so phase `rolling-back` of a rollout is still recorded on the StatefulSet, the
// partition is where the failing stage held it, and pods may still be stuck on the bad revision.
// The next run of any command on that StatefulSet finishes it first, the same way.
import type { Observation } from '../../engine/observation.ts';
import type { RollbackReport } from '../../engine/report.ts';
import { decodeState } from '../../engine/state.ts';
import { newProgress, type RunScope } from '../run.ts';
import { automaticRollback } from './automatic.ts';

export interface Resumed {
  /** The StatefulSet as it is now (after the rollback, when one was finished). */
  readonly observation: Observation;
  /** What was finished, for the command's own report; undefined when nothing was left. */
  readonly finished: RollbackReport | undefined;
}

/** Finishes an automatic rollback left unfinished, if there is one; else returns `observation` as is. */
export async function resumeInterruptedRollback(scope: RunScope, observation: Observation): Promise<Resumed> {
  const { deps, settings, run } = scope;
  const sts = observation.statefulSet;
  const state = decodeState(sts.annotations);
  if (state?.kind !== 'rollout' || state.phase !== 'rolling-back')
    return { observation, finished: undefined };
  const ref = { namespace: sts.namespace, name: sts.name };
  const where = `${ref.namespace}/${ref.name}`;
  // Keep the failure the killed run recorded on the bad revision (a later rollback skips it).
  const bad = (await deps.cluster.revisions(ref)).find((r) => r.name === state.targetRevision);
  const why = bad?.failed ?? `the canary of ${state.targetRevision} failed`;
  deps.log.warning(
    `${where}: an earlier run was stopped during its automatic rollback from ${state.targetRevision} to ` +
      `${state.previousRevision} (phase rolling-back is still recorded, partition ${sts.partition}): ` +
      `finishing that rollback before this ${settings.command}`,
  );
  const progress = newProgress(deps, run, ref, 'rollout', sts.replicas);
  progress.revisions(state.targetRevision, state.previousRevision, [], deps.clock.now(), false);
  const result = await automaticRollback(scope, {
    ref,
    progress,
    failed: {
      target: state.targetRevision,
      previous: state.previousRevision,
      originalPartition: state.originalPartition,
      message: why,
    },
    observation,
  });
  const done = result.result === 'rolled-back';
  const finished: RollbackReport = {
    reason:
      `an earlier run was stopped (killed) during its automatic rollback (${why}); this run ` +
      (done ? `finished it before the ${settings.command}` : `could not finish it: ${result.message ?? ''}`),
    toRevision: state.previousRevision,
    state: done ? 'succeeded' : 'failed',
    deletedPods: progress.report.rollback?.deletedPods ?? [],
  };
  if (!done) {
    throw new Error(
      `${where}: ${finished.reason}. Nothing else was done; check the pods of revision ${state.targetRevision} and run again.`,
    );
  }
  deps.log.info(`${where}: the interrupted rollback is finished: back on ${state.previousRevision}`);
  const after = await deps.cluster.observe(ref);
  if (!after) throw new Error(`${where} disappeared while its interrupted rollback was finished`);
  return { observation: after, finished };
}
