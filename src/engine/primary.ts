// The primary restarted last. The partition cannot reorder pods (it restarts the highest
// indexes first), so before a stage that would restart the pod holding the primary role, the
// role moves to a pod the stage will not restart, by the user's switchover hook; the primary
// then restarts at most once, as a replica. Pure: which pods a stage restarts, where the role
// should go, and what to do when it cannot go anywhere.
//
// Worked example: 5 replicas, steps 1, 50%, 100% (partitions 4, 2, 0), primary db-2.
//   Stage 1 restarts db-4: the primary stays.
//   Stage 2 restarts db-3 and db-2: switch the primary to db-4 (Ready, already updated).
//   Stage 3 restarts db-1 and db-0: the primary (db-4) stays. db-2 restarted once, as a replica.
// With the primary at db-4 (the canary's ordinal): before stage 1 there is no updated pod, so
// the role goes to the lowest Ready pod (db-0, restarted last); before stage 3 it moves again,
// to an updated pod.
import type { PodObservation } from './observation.ts';

/** What to do about the primary before a stage lowers the partition. */
export type PrimaryStep =
  /** The stage does not restart the primary (or there is none to keep): lower the partition. */
  | { readonly kind: 'keep'; readonly why: string }
  /** Move the role first, from the primary to a pod the stage does not restart. */
  | { readonly kind: 'switchover'; readonly from: string; readonly to: string }
  /** Stop before the stage (a person moves the role, then promotes): no hook, or no pod can take it. */
  | { readonly kind: 'pause'; readonly reason: string };

/** The pods a stage whose partition is `partition` restarts: index at or above it, not yet on `target`. */
export function restartedBy(
  pods: readonly PodObservation[],
  partition: number,
  target: string,
): PodObservation[] {
  return pods.filter((p) => p.index >= partition && p.revision !== target);
}

/**
 * Where the role goes: a Ready pod the stage does not restart, other than the primary;
 * preferably one already on the target revision (the highest index, the longest there), else
 * the lowest index (the last the rollout restarts). Undefined when none can take it.
 */
export function switchoverTarget(
  pods: readonly PodObservation[],
  primary: string,
  partition: number,
  target: string,
): PodObservation | undefined {
  const restarted = new Set(restartedBy(pods, partition, target).map((p) => p.name));
  const able = pods.filter((p) => p.name !== primary && p.ready && !p.deleting && !restarted.has(p.name));
  const updated = able.filter((p) => p.revision === target).sort((a, b) => b.index - a.index);
  const old = able.filter((p) => p.revision !== target).sort((a, b) => a.index - b.index);
  return updated[0] ?? old[0];
}

/** What to do about `primary` (the pod holding the role) before a stage with `partition`. */
export function primaryStep(args: {
  readonly pods: readonly PodObservation[];
  readonly primary: string;
  readonly partition: number;
  readonly target: string;
  /** A switchover hook is configured. */
  readonly canSwitch: boolean;
  readonly stage: number;
}): PrimaryStep {
  const { pods, primary, partition, target, stage } = args;
  const restarts = restartedBy(pods, partition, target).some((p) => p.name === primary);
  if (!restarts) return { kind: 'keep', why: `stage ${stage} does not restart the primary ${primary}` };
  if (pods.length === 1)
    return {
      kind: 'keep',
      why: `${primary} is the only pod: no other pod can hold the role while it restarts`,
    };
  const to = switchoverTarget(pods, primary, partition, target);
  if (!to)
    return {
      kind: 'pause',
      reason: `stage ${stage} would restart the primary ${primary}, and no Ready pod outside the stage can take the role`,
    };
  if (!args.canSwitch)
    return {
      kind: 'pause',
      reason: `stage ${stage} would restart the primary ${primary} and no switchover hook is set: move the role (for example to ${to.name}) yourself, then promote`,
    };
  return { kind: 'switchover', from: primary, to: to.name };
}

/**
 * What the rollout will do about the primary, stage by stage, for the plan: the switchovers it
 * makes (and the pauses it stops at), as one line each, from the pods as they are now. `target`
 * is a revision no pod has yet; each stage moves the pods at or above its partition to it.
 */
export function plannedSwitchovers(args: {
  readonly pods: readonly PodObservation[];
  readonly primary: string;
  readonly partitions: readonly number[];
  readonly canSwitch: boolean;
}): string[] {
  const target = '(the new revision)';
  let pods = [...args.pods];
  let primary = args.primary;
  const lines: string[] = [];
  for (const [i, partition] of args.partitions.entries()) {
    const stage = i + 1;
    const step = primaryStep({ pods, primary, partition, target, canSwitch: args.canSwitch, stage });
    if (step.kind === 'pause') {
      lines.push(`before stage ${stage}: pause (${step.reason})`);
      break;
    }
    if (step.kind === 'switchover') {
      lines.push(`before stage ${stage}: switch over from ${step.from} to ${step.to}`);
      primary = step.to;
    }
    pods = pods.map((p) => (p.index >= partition ? { ...p, revision: target } : p));
  }
  return lines.length ? lines : [`no stage restarts the primary ${args.primary} before the last`];
}
