// What `promote` and `abort` act on: the rollout recorded on the StatefulSet, paused (or, for
// abort, halted) on the revision it is still updating; else a clear refusal, nothing changed.

import type { Settings } from '../../config/settings.ts';
import type { Observation } from '../../engine/observation.ts';
import { decodeState, type RecordedState } from '../../engine/state.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import type { RunDeps } from '../run.ts';
import { assertOwned } from './owner.ts';

/** A command that cannot act on the StatefulSet as it is; nothing was changed. */
class NothingToDoError extends Error {
  override name = 'NothingToDoError';
}

export async function recorded(
  deps: RunDeps,
  ref: StatefulSetRef,
  command: 'promote' | 'abort',
  settings: Settings,
): Promise<{ observation: Observation; state: RecordedState }> {
  const where = `StatefulSet ${ref.namespace}/${ref.name}`;
  const observation = await deps.cluster.observe(ref);
  if (!observation)
    throw new NothingToDoError(`${where} was not found: check the statefulset and namespace inputs`);
  assertOwned(settings, observation.statefulSet);
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
