// `abort`: a person ends a rollout paused between stages (or halted) by rolling it back, as an
// automatic rollback does.
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { automaticRollback } from '../rollback/automatic.ts';
import { newProgress, type RunScope, type StatefulSetResult } from '../run.ts';
import { recorded } from './recorded.ts';

export async function abortStatefulSet(scope: RunScope, ref: StatefulSetRef): Promise<StatefulSetResult> {
  const { deps, settings, run } = scope;
  const { observation, state } = await recorded(deps, ref, 'abort', settings);
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
  return automaticRollback(scope, {
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
