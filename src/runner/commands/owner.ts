// The guard of a command from a pull request comment (settings.boundTo): before anything
// changes, the StatefulSet's recorded state must say that pull request rolled out what is live.
import type { Settings } from '../../config/settings.ts';
import { notOwnedProblem } from '../../engine/command-owner.ts';
import type { StatefulSetObservation } from '../../engine/observation.ts';
import { decodeState } from '../../engine/state.ts';

/** A comment command on a StatefulSet its pull request does not own; nothing was changed. */
class NotOwnedError extends Error {
  override name = 'NotOwnedError';
}

export function assertOwned(settings: Settings, sts: StatefulSetObservation): void {
  if (settings.boundTo === undefined) return;
  const where = `StatefulSet ${sts.namespace}/${sts.name}`;
  const problem = notOwnedProblem(where, decodeState(sts.annotations), sts.updateRevision, settings.boundTo);
  if (problem !== undefined) throw new NotOwnedError(problem);
}
