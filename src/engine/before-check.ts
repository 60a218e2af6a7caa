// Before-checks: their verdict from the rounds so far. Pure.
import { type AnalysisCheck, type CheckState, showNumber } from './analysis.ts';

/**
 * A before-check's verdict: it passes after `count` passing rounds in a row (a failed round
 * starts the count again: nothing has restarted yet, so waiting may fix it), and fails only
 * when its timeout passes first, or on a problem waiting cannot fix.
 */
export function judgeBefore(
  check: AnalysisCheck,
  tally: {
    readonly passedInARow: number;
    readonly fatal: string | undefined;
    readonly lastFailure: string | undefined;
  },
  elapsedMs: number,
): { state: Exclude<CheckState, 'stopped'>; reason?: string } {
  if (tally.fatal !== undefined) return { state: 'failed', reason: tally.fatal };
  const needed = check.count === 'soak' ? 1 : check.count;
  if (tally.passedInARow >= needed) return { state: 'passed' };
  const timeoutMs = check.timeoutMs ?? 0;
  if (elapsedMs >= timeoutMs) {
    return {
      state: 'failed',
      reason: `not passed within its timeout of ${showNumber(timeoutMs / 1000)}s${tally.lastFailure ? ` (last: ${tally.lastFailure})` : ''}`,
    };
  }
  return { state: 'running' };
}
