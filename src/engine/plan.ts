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

/**
 * How many pods the StatefulSet controller may have down at once within a stage, from
 * `spec.updateStrategy.rollingUpdate.maxUnavailable` (with the MaxUnavailableStatefulSet feature
 * on; without it the API server drops the field and the controller replaces one pod at a time).
 * As the controller computes it (getStatefulSetMaxUnavailable, v1.36): a percentage of replicas
 * rounded down, never below 1; a count as it is; unset (or unreadable) is 1. The partition
 * still bounds which pods: only those whose index is at or above it.
 *
 *   maxUnavailablePods(undefined, 5) -> 1
 *   maxUnavailablePods(2, 5)         -> 2
 *   maxUnavailablePods('50%', 5)     -> 2   (2.5 rounded down)
 *   maxUnavailablePods('10%', 5)     -> 1   (0.5 rounded down to 0, raised to 1)
 *   maxUnavailablePods('100%', 5)    -> 5
 */
export function maxUnavailablePods(value: number | string | undefined, replicas: number): number {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 ? value : 1;
  const percent = /^(\d+)%$/.exec(value ?? '');
  if (!percent) return 1;
  return Math.max(1, Math.floor((Number(percent[1]) * replicas) / 100));
}

/** `at most 2 pods down at once (maxUnavailable 50% of 5, rounded down as the controller does)`. */
export function unavailableText(value: number | string | undefined, replicas: number): string {
  const pods = maxUnavailablePods(value, replicas);
  const down = `at most ${pods} pod${pods === 1 ? '' : 's'} down at once`;
  if (value === undefined) return `${down} (no maxUnavailable)`;
  if (typeof value === 'string' && value.endsWith('%'))
    return `${down} (maxUnavailable ${value} of ${replicas}, rounded down as the controller does)`;
  return `${down} (maxUnavailable ${value})`;
}
