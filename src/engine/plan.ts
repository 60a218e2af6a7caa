// Step arithmetic: which partition each stage of a rollout sets. Pure.

/** How many pods are on the new revision after a stage: a count or a percentage of replicas. */
export type Step =
  | { readonly kind: 'count'; readonly value: number }
  | { readonly kind: 'percent'; readonly value: number };

/**
 * Pods on the new revision that `step` asks for, out of `replicas`. Percentages round up,
 * so any non-zero percentage of a non-empty StatefulSet updates at least one pod; counts
 * above `replicas` mean "all of them".
 */
export function podsForStep(step: Step, replicas: number): number {
  switch (step.kind) {
    case 'count':
      return Math.min(step.value, replicas);
    case 'percent':
      return Math.min(Math.ceil((step.value * replicas) / 100), replicas);
  }
}

/**
 * The partition of every stage after the frozen one (partition = replicas, which is not in
 * the list). A step says how many pods are on the new revision after its stage; the
 * StatefulSet controller updates exactly the pods whose index (ordinal - spec.ordinals.start)
 * is >= partition, so a stage's partition is `replicas - pods`.
 *
 * Rules:
 * - percentages of replicas round up;
 * - the first stage updates at least one pod;
 * - the last stage is always partition 0 (100%), even when the steps stop short of it;
 * - a stage that would not lower the partition is dropped, so the list strictly decreases;
 * - replicas 0 has no stages; replicas 1 has one, [0].
 *
 * Worked examples:
 *
 *   replicas 5, steps 1, 50%, 100%
 *     1    -> 1 pod            -> partition 4   (pod -4 is the canary)
 *     50%  -> ceil(2.5) = 3    -> partition 2   (pods -3 and -2 follow)
 *     100% -> 5 pods           -> partition 0
 *     result [4, 2, 0]
 *
 *   replicas 3, steps 1, 50%
 *     1    -> partition 2
 *     50%  -> ceil(1.5) = 2    -> partition 1
 *     (steps stop short)       -> partition 0 appended
 *     result [2, 1, 0]
 *
 *   replicas 2, steps 1, 10%, 50%, 100%
 *     1    -> partition 1
 *     10%  -> ceil(0.2) = 1    -> partition 1 again: dropped
 *     50%  -> 1 pod            -> dropped
 *     100% -> partition 0
 *     result [1, 0]
 *
 *   replicas 4, steps 10
 *     10   -> more than replicas: all 4 -> partition 0
 *     result [0]
 */
export function planPartitions(steps: readonly Step[], replicas: number): number[] {
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new RangeError(`replicas must be a non-negative integer, got ${replicas}`);
  }
  if (replicas === 0) return [];
  const partitions: number[] = [];
  let previous = replicas;
  for (const step of steps) {
    const pods = Math.max(1, podsForStep(step, replicas));
    const partition = replicas - pods;
    if (partition < previous) {
      partitions.push(partition);
      previous = partition;
    }
  }
  if (previous > 0) partitions.push(0);
  return partitions;
}

/**
 * Ordinals a stage moves to the new revision, highest first (the order in which the
 * controller updates them): the pods whose index is in [partition, previousPartition), named
 * by their ordinal, which is the index plus `spec.ordinals.start`.
 *
 *   ordinalsOfStage(5, 4)      -> [4]
 *   ordinalsOfStage(4, 2)      -> [3, 2]
 *   ordinalsOfStage(2, 2)      -> []
 *   ordinalsOfStage(5, 4, 10)  -> [14]      (pods 10..14: the canary is ord-14)
 *   ordinalsOfStage(4, 2, 10)  -> [13, 12]
 */
export function ordinalsOfStage(previousPartition: number, partition: number, ordinalsStart = 0): number[] {
  const ordinals: number[] = [];
  for (let index = previousPartition - 1; index >= partition; index--) ordinals.push(index + ordinalsStart);
  return ordinals;
}
