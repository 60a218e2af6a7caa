// The hooks a run of stages calls at each transition, and the ones every rollout and rollback
// uses: keep the report current and record progress on the StatefulSet.
import type { CheckReport } from '../../engine/analysis.ts';
import type { StageFailure } from '../../engine/decide.ts';
import type { HookReport } from '../../engine/hooks.ts';
import type { Observation } from '../../engine/observation.ts';
import { encodeProgress, type Phase } from '../../engine/state.ts';
import type { StatefulSetChange } from '../../ports/cluster.ts';
import type { Progress } from './progress.ts';

export interface StageHooks {
  // Hooks must not block: the partition write of the next stage follows at once.
  /** A stage begins: its partition has just been written (or was already in place). */
  onStageStart(stage: number, partition: number, at: number): void;
  /** Every pod of the stage is Ready on the target revision: only the soak is left. */
  onSoaking?(stage: number, at: number): void;
  /** Whether to stop after `stage` passes (a pause), instead of writing the next partition. */
  shouldPause?(stage: number): boolean;
  /** A stage passed its gate. */
  onStagePassed(stage: number, at: number, observation: Observation): void;
  /** Pods deleted to unstick them. */
  onPodsDeleted?(names: readonly string[]): void;
  /** Why pods of the stage are stuck, one line a pod (empty once none is). */
  onStuck?(stage: number, lines: readonly string[], at: number): void;
  /** Extra fields written together with each partition (progress annotations). */
  partitionChange(stage: number, partition: number): StatefulSetChange;
  /** The stage's analysis checks measured (every round, and when the analysis begins). */
  onAnalysis?(stage: number, checks: readonly CheckReport[], at: number): void;
  /** A hook or a switchover ran. */
  onHook?(report: HookReport): void;
}

/** Stage hooks that keep the report current and record progress on the StatefulSet. */
export function stageHooks(progress: Progress, phase: Phase): StageHooks {
  return {
    onStageStart(stage, partition, at) {
      progress.stage(stage, { state: 'progressing', startedAt: at, partition }, at);
    },
    onSoaking(stage, at) {
      progress.stage(stage, { state: 'soaking' }, at);
    },
    onStagePassed(stage, at, observation) {
      const sts = observation.statefulSet;
      progress.stage(stage, { state: 'passed', endedAt: at, updated: sts.updatedReplicas, stuck: [] }, at);
    },
    onStuck(stage, lines, at) {
      progress.stage(stage, { stuck: lines }, at);
    },
    onAnalysis(stage, checks, at) {
      progress.stage(stage, { analysis: checks }, at);
    },
    onHook(report) {
      progress.hook(report, report.at);
    },
    partitionChange(stage) {
      return { annotations: encodeProgress(phase, stage) };
    },
  };
}

/** Why a failed stage's pods were stuck, to end its failure message with (empty when unknown). */
export function diagnosisText(failure: StageFailure): string {
  const lines = failure.diagnosis ?? [];
  return lines.length ? `; ${lines.join('; ')}` : '';
}
