// The report model of one rollout or rollback: everything a reporter (pull request
// comment, job summary, console) needs, as plain data. Rendering lives in adapters.
import type { CheckReport } from './analysis.ts';
import type { CrashLog } from './crash-log.ts';
import type { HookReport } from './hooks.ts';
import type { Verdict } from './result.ts';

export type { Verdict } from './result.ts';

/** Where a stage is: not begun, waiting for its pods, only its soak left, or ended. */
export type StageStatus = 'pending' | 'progressing' | 'soaking' | 'passed' | 'failed' | 'cancelled';

export interface StageReport {
  /** 1-based stage number. */
  readonly stage: number;
  readonly partition: number;
  /** Ordinals that this stage moves to the new revision. */
  readonly ordinals: readonly number[];
  /** Pods on the new revision now, out of `replicas`. */
  readonly updated: number;
  readonly state: StageStatus;
  readonly startedAt: number | undefined;
  readonly endedAt: number | undefined;
  /** Why pods of the stage in progress are stuck, one line a pod (cluster text, untrusted). */
  readonly stuck?: readonly string[];
  /** The stage's analysis checks, once its analysis began (values from pods and Prometheus: untrusted). */
  readonly analysis?: readonly CheckReport[];
}

export interface FailureReport {
  readonly stage: number;
  readonly pod: string;
  readonly container: string | undefined;
  readonly reason: string;
  /** Human-readable explanation, from the engine. */
  readonly message: string;
  /** Last termination message of the container, from the cluster (untrusted). */
  readonly terminationMessage: string | undefined;
  /** Why the stage's pods were stuck when it failed, one line a pod (cluster text, untrusted). */
  readonly diagnosis?: readonly string[];
  /** The last log lines of crashed containers (see engine/crash-log.ts; application text, untrusted). */
  readonly crashLogs?: readonly CrashLog[];
}

export interface ImageChange {
  readonly container: string;
  readonly from: string | undefined;
  readonly to: string;
}

/** The containers whose image differs between two templates (container name -> image). */
export function imageChanges(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): ImageChange[] {
  return Object.entries(after)
    .filter(([name, image]) => before[name] !== image)
    .map(([container, to]) => ({ container, from: before[container], to }));
}

export interface RollbackReport {
  readonly reason: string;
  readonly toRevision: string;
  readonly state: 'in-progress' | 'succeeded' | 'failed';
  /** Pods deleted because the controller would not replace them itself. */
  readonly deletedPods: readonly string[];
}

/** A paused rollout this run started over (a newer merge of the same StatefulSet). */
export interface SupersededReport {
  /** The pull request the paused rollout was reporting on. */
  readonly pullRequest: number;
  readonly revision: string;
  readonly stage: number;
}

export interface RolloutReport {
  readonly kind: 'rollout' | 'rollback';
  /** Kube context name (for the comment marker). */
  readonly context: string;
  readonly namespace: string;
  readonly name: string;
  readonly verdict: Verdict;
  readonly replicas: number;
  readonly previousRevision: string | undefined;
  readonly revision: string | undefined;
  readonly images: readonly ImageChange[];
  readonly stages: readonly StageReport[];
  readonly failure: FailureReport | undefined;
  readonly rollback: RollbackReport | undefined;
  readonly runUrl: string | undefined;
  readonly startedAt: number;
  readonly updatedAt: number;
  /** A paused rollout of another pull request this run superseded, told on that one's comment. */
  readonly superseded?: SupersededReport | undefined;
  /** How each hook and switchover ran, in order (answers from pods and servers: untrusted). */
  readonly hooks?: readonly HookReport[];
}
