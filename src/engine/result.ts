// One set of words for how a run ends, shared by the outputs, the report and the state
// recorded on the StatefulSet.

/** How a run of one StatefulSet ended (the `result` output). */
export type Result =
  | 'succeeded'
  | 'paused'
  /** apply: false, and the GitOps controller's sync rolled every pod before the partition was parked. */
  | 'not-gated'
  | 'created'
  | 'no-change'
  | 'rolled-back'
  | 'halted'
  | 'cancelled'
  | 'failed';

/** The report's headline: a result, or `in-progress` while the run goes on. */
export type Verdict = 'in-progress' | Result;

/**
 * The phase recorded on the StatefulSet: what a run is doing (`rolling-out`, `rolling-back`)
 * or the result it ended with. `created` and `no-change` are never recorded.
 */
export type Phase = 'rolling-out' | 'rolling-back' | Exclude<Result, 'created' | 'no-change' | 'not-gated'>;

/** Results from least to most severe: the run's result is the worst of its StatefulSets'. */
export const RESULT_SEVERITY: readonly Result[] = [
  'no-change',
  'created',
  'succeeded',
  'not-gated',
  'paused',
  'rolled-back',
  'halted',
  'cancelled',
  'failed',
];
