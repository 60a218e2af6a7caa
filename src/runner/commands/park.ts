// `command: park`: prepares a StatefulSet for a GitOps controller's syncs (apply: false), so a
// sync of a new template creates a new revision and restarts no pod until a rollout gates it.
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { checkPartitionOwners, PARKED } from '../rollout/gitops.ts';
import type { RunScope } from '../run.ts';
import { ValidationError } from '../validate.ts';

/** `command: park`: prepares a StatefulSet for a GitOps controller's syncs. */
export async function parkStatefulSet(scope: RunScope, ref: StatefulSetRef): Promise<string> {
  const { deps, settings } = scope;
  const observation = await deps.cluster.observe(ref);
  if (!observation) throw new ValidationError(`StatefulSet ${ref.namespace}/${ref.name} was not found`);
  checkPartitionOwners(observation.statefulSet, settings.fieldManager);
  if (observation.statefulSet.partition >= PARKED)
    return `StatefulSet ${ref.namespace}/${ref.name} is parked already (partition ${PARKED})`;
  await deps.cluster.patchStatefulSet(ref, { partition: PARKED });
  return (
    `StatefulSet ${ref.namespace}/${ref.name} is parked: partition ${PARKED} (was ${observation.statefulSet.partition}). ` +
    'A sync of a new template now creates a new revision and restarts no pod until a rollout gates it.'
  );
}
