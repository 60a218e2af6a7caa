// Unhealthy before it starts: pods the first stage does not update that are not Ready when a
// rollout begins. Under OrderedReady the controller updates no pod while one of them is not
// Running and Ready, so the canary stage could only time out. Pure.
import type { Observation, PodObservation } from './observation.ts';

/** Pods below `firstPartition` (by index) that are not Ready, or are being deleted. */
export function unhealthyBelow(observation: Observation, firstPartition: number): PodObservation[] {
  return observation.pods.filter((p) => p.index < firstPartition && (!p.ready || p.deleting));
}

/** Whether pods below the partition that are not Ready keep the controller from updating any. */
export function blocksController(observation: Observation): boolean {
  return observation.statefulSet.podManagementPolicy !== 'Parallel';
}

/** What to say about them: which pods, why (diagnosis lines), and what to do. */
export function unhealthyStartMessage(
  observation: Observation,
  pods: readonly PodObservation[],
  firstPartition: number,
  diagnosis: readonly string[],
): string {
  const sts = observation.statefulSet;
  const names = pods.map((p) => p.name).join(', ');
  const why = diagnosis.length ? `: ${diagnosis.join('; ')}` : '';
  const effect = blocksController(observation)
    ? 'with podManagementPolicy OrderedReady the controller updates no pod until they are Running and Ready, so the canary stage could only time out'
    : 'the controller (podManagementPolicy Parallel) still updates the canary, but they are not Ready';
  return (
    `${sts.namespace}/${sts.name}: ${pods.length === 1 ? 'pod' : 'pods'} ${names} below the first stage's ` +
    `partition ${firstPartition} ${pods.length === 1 ? 'is' : 'are'} not Ready before the rollout begins${why}. ` +
    `${effect[0]?.toUpperCase()}${effect.slice(1)}`
  );
}
