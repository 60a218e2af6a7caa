// A rollout paused between stages: what it was started with (so `promote` goes on with the
// same stages, soak and gates) and since when it waits. Recorded on the StatefulSet as
// annotations next to the rollout state. Pure.
import type { Step } from './plan.ts';
import { ANNOTATION_PREFIX } from './state.ts';

/** The settings a rollout's stages were started with. */
export interface RecordedPlan {
  readonly steps: readonly Step[];
  readonly soakMs: number;
  readonly stageTimeoutMs: number;
  readonly maxRestarts: number;
  /** `each`, or 1-based stage numbers. */
  readonly pauseAfter: 'each' | readonly number[];
}

const PLAN = `${ANNOTATION_PREFIX}plan`;
const PAUSED_AT = `${ANNOTATION_PREFIX}paused-at`;

export function encodePlan(plan: RecordedPlan): Record<string, string> {
  return { [PLAN]: JSON.stringify(plan) };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The recorded plan, or undefined when there is none or it does not read as one. */
export function decodePlan(annotations: Readonly<Record<string, string>>): RecordedPlan | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(annotations[PLAN] ?? 'null');
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const plan = raw as Record<string, unknown>;
  const steps = Array.isArray(plan.steps) ? plan.steps : [];
  const validStep = (s: unknown) => {
    const step = s as { kind?: unknown; value?: unknown } | null;
    return (step?.kind === 'count' || step?.kind === 'percent') && isCount(step.value) && step.value > 0;
  };
  const pauseAfter =
    plan.pauseAfter === 'each' ? 'each' : Array.isArray(plan.pauseAfter) ? plan.pauseAfter : [];
  if (steps.length === 0 || !steps.every(validStep) || !(pauseAfter === 'each' || pauseAfter.every(isCount)))
    return undefined;
  if (!isCount(plan.soakMs) || !isCount(plan.stageTimeoutMs) || !isCount(plan.maxRestarts)) return undefined;
  return {
    steps: steps as Step[],
    soakMs: plan.soakMs,
    stageTimeoutMs: plan.stageTimeoutMs,
    maxRestarts: plan.maxRestarts,
    pauseAfter: pauseAfter as 'each' | number[],
  };
}

/** Whether the rollout stops after `stage` (1-based) passes. `resumedAfter`: the stage it was promoted from. */
export function pausesAfter(
  pauseAfter: 'each' | readonly number[],
  stage: number,
  lastStage: number,
  resumedAfter = 0,
): boolean {
  if (stage >= lastStage || stage <= resumedAfter) return false;
  return pauseAfter === 'each' || pauseAfter.includes(stage);
}

export function encodePausedAt(at: number | undefined): Record<string, string | null> {
  return { [PAUSED_AT]: at === undefined ? null : new Date(at).toISOString() };
}

export function decodePausedAt(annotations: Readonly<Record<string, string>>): number | undefined {
  const at = Date.parse(annotations[PAUSED_AT] ?? '');
  return Number.isNaN(at) ? undefined : at;
}
