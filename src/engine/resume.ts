// Where a run of a StatefulSet starts, from what it finds: nothing to do, the same change
// part-way (resume the stage in progress), or a new change (freeze, then stage from the top).
// Pure; shared by the rollout and the manual rollback.
import type { StatefulSetObservation } from './observation.ts';
import type { Phase } from './result.ts';
import type { RecordedState } from './state.ts';

export type RunStart =
  /** The target already runs on every pod. */
  | { readonly kind: 'no-change'; readonly revision: string }
  /** The target is the live updateRevision, part-way: go on from the live partition. */
  | {
      readonly kind: 'resume';
      readonly target: string;
      readonly previous: string;
      readonly originalPartition: number;
      readonly fromPartition: number;
    }
  /** A new change: write it with the partition frozen at `replicas`, then stage from the top. */
  | { readonly kind: 'fresh'; readonly previous: string; readonly originalPartition: number }
  /** Refused, saying why; nothing was changed. */
  | { readonly kind: 'refuse'; readonly message: string };

export interface StartInput {
  readonly kind: 'rollout' | 'rollback';
  readonly sts: StatefulSetObservation;
  readonly recorded: RecordedState | undefined;
  /** The run's target is the live template (updateRevision) already. */
  readonly targetIsLive: boolean;
  /** Replicas the run stages over. */
  readonly replicas: number;
}

/** Phases after which the partition on the StatefulSet is the one the user had. */
const SETTLED: readonly Phase[] = ['succeeded', 'rolled-back'];

/**
 * The partition to restore after an automatic rollback: the one the user had before this
 * change. A run that stopped part-way (cancelled, halted, failed, killed) left its own partition
 * behind, so that one is taken from the recorded state, never from the StatefulSet.
 */
function originalPartition(input: Pick<StartInput, 'sts' | 'recorded' | 'replicas'>): number {
  const { sts, recorded, replicas } = input;
  if (recorded && !SETTLED.includes(recorded.phase)) return recorded.originalPartition;
  return Math.min(sts.partition, replicas);
}

export function decideStart(input: StartInput): RunStart {
  const { sts, recorded, kind } = input;
  const original = originalPartition(input);
  if (!input.targetIsLive)
    return { kind: 'fresh', previous: sts.currentRevision, originalPartition: original };
  if (sts.currentRevision === sts.updateRevision) return { kind: 'no-change', revision: sts.updateRevision };
  const ours = recorded?.targetRevision === sts.updateRevision ? recorded : undefined;
  if (kind === 'rollback' && ours?.kind !== 'rollback') {
    return {
      kind: 'refuse',
      message:
        `revision ${sts.updateRevision} is the target of a rollout still in progress (currentRevision is ` +
        `${sts.currentRevision}): rolling back to it would roll that change forward. Run the rollout again to ` +
        `finish it, or roll back to ${sts.currentRevision} (leave to-revision empty) to undo it.`,
    };
  }
  return {
    kind: 'resume',
    target: sts.updateRevision,
    previous: ours ? ours.previousRevision : sts.currentRevision,
    originalPartition: original,
    fromPartition: Math.min(sts.partition, input.replicas),
  };
}
