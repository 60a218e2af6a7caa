// The rollout state recorded on the StatefulSet, as annotations under one prefix, so a
// rerun resumes where a cancelled run stopped and a rollback knows which pull request to tell.

import type { Phase } from './result.ts';

export type { Phase } from './result.ts';

export const ANNOTATION_PREFIX = 'statefulset-canary.io/';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

const PHASES: ReadonlySet<string> = new Set<Phase>([
  'rolling-out',
  'paused',
  'succeeded',
  'failed',
  'halted',
  'rolling-back',
  'rolled-back',
  'cancelled',
]);

export interface RecordedState {
  /** Which command recorded it (older runs recorded none: a rollout). */
  readonly kind: 'rollout' | 'rollback';
  readonly phase: Phase;
  /** 1-based stage the run was at (0: frozen, before the first stage). */
  readonly stage: number;
  readonly targetRevision: string;
  readonly previousRevision: string;
  /** The partition before the rollout began, restored after a rollback. */
  readonly originalPartition: number;
  readonly runUrl: string | undefined;
  readonly commit: string | undefined;
  readonly pullRequest: number | undefined;
  /** The kube context the run rolled out to (older runs recorded none); kept when not given. */
  readonly context?: string | undefined;
}

const KEYS = {
  kind: `${ANNOTATION_PREFIX}run`,
  phase: `${ANNOTATION_PREFIX}phase`,
  stage: `${ANNOTATION_PREFIX}stage`,
  targetRevision: `${ANNOTATION_PREFIX}target-revision`,
  previousRevision: `${ANNOTATION_PREFIX}previous-revision`,
  originalPartition: `${ANNOTATION_PREFIX}original-partition`,
  runUrl: `${ANNOTATION_PREFIX}run-url`,
  commit: `${ANNOTATION_PREFIX}commit`,
  pullRequest: `${ANNOTATION_PREFIX}pull-request`,
  context: `${ANNOTATION_PREFIX}context`,
} as const;

/** Annotations that record `state`; absent optional fields are removed (null). */
export function encodeState(state: RecordedState): Record<string, string | null> {
  return {
    [KEYS.kind]: state.kind,
    [KEYS.phase]: state.phase,
    [KEYS.stage]: String(state.stage),
    [KEYS.targetRevision]: state.targetRevision,
    [KEYS.previousRevision]: state.previousRevision,
    [KEYS.originalPartition]: String(state.originalPartition),
    [KEYS.runUrl]: state.runUrl ?? null,
    [KEYS.commit]: state.commit ?? null,
    [KEYS.pullRequest]: state.pullRequest === undefined ? null : String(state.pullRequest),
    ...(state.context === undefined ? {} : { [KEYS.context]: state.context }),
  };
}

/** Only the annotations that change as a run moves on. */
export function encodeProgress(phase: Phase, stage: number): Record<string, string> {
  return { [KEYS.phase]: phase, [KEYS.stage]: String(stage) };
}

/** The recorded state, or undefined when there is none or it is not ours to trust. */
export function decodeState(annotations: Readonly<Record<string, string>>): RecordedState | undefined {
  const phase = annotations[KEYS.phase];
  const targetRevision = annotations[KEYS.targetRevision];
  const previousRevision = annotations[KEYS.previousRevision];
  const stage = wholeNumber(annotations[KEYS.stage]);
  const originalPartition = wholeNumber(annotations[KEYS.originalPartition]);
  if (phase === undefined || !PHASES.has(phase) || !targetRevision || !previousRevision) return undefined;
  if (stage === undefined || originalPartition === undefined) return undefined;
  const pullRequest = wholeNumber(annotations[KEYS.pullRequest]);
  return {
    kind: annotations[KEYS.kind] === 'rollback' ? 'rollback' : 'rollout',
    phase: phase as Phase,
    stage,
    targetRevision,
    previousRevision,
    originalPartition,
    runUrl: annotations[KEYS.runUrl] || undefined,
    commit: annotations[KEYS.commit] || undefined,
    pullRequest: pullRequest && pullRequest > 0 ? pullRequest : undefined,
    context: annotations[KEYS.context] || undefined,
  };
}

function wholeNumber(text: string | undefined): number | undefined {
  // Up to 2^31 - 1, the API's int32 limit (a parked partition is exactly that).
  if (text === undefined || !/^\d{1,10}$/.test(text) || Number(text) > 2 ** 31 - 1) return undefined;
  return Number(text);
}

/** The `kubernetes.io/change-cause` text, as `kubectl rollout history` shows it. */
export function changeCause(
  action: 'rollout' | 'rollback',
  details: {
    commit?: string | undefined;
    pullRequest?: number | undefined;
    runUrl?: string | undefined;
    reason?: string | undefined;
  },
): string {
  const parts: string[] = [`statefulset-canary ${action}`];
  if (details.commit) parts.push(`commit ${details.commit.slice(0, 12)}`);
  if (details.pullRequest) parts.push(`PR #${details.pullRequest}`);
  if (details.reason) parts.push(`reason: ${details.reason}`);
  if (details.runUrl) parts.push(details.runUrl);
  return parts.join(', ').slice(0, 1024);
}
