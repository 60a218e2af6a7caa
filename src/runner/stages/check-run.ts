// One check's tally in one stage: each round's outcome recorded, the verdict judged (by the
// engine) after every round, and what the report shows of it.
import {
  type AnalysisCheck,
  type CheckReport,
  EMPTY_TALLY,
  FAILED_KEPT,
  judge,
  type Measurement,
  roundsOf,
  type Tally,
  thresholdText,
} from '../../engine/analysis.ts';

/** A measurement round's outcome: values, or an error (Prometheus), or a fatal problem. */
export type Round =
  | { readonly kind: 'measured'; readonly measurements: readonly Measurement[] }
  | { readonly kind: 'error'; readonly error: string }
  | { readonly kind: 'fatal'; readonly error: string };

export class CheckRun {
  tally: Tally = EMPTY_TALLY;
  last: Measurement | undefined;
  failed: Measurement[] = [];
  state: CheckReport['state'] = 'running';
  reason: string | undefined;
  readonly rounds: number;
  readonly check: AnalysisCheck;

  constructor(check: AnalysisCheck, soakMs: number) {
    this.check = check;
    this.rounds = roundsOf(check, soakMs);
  }

  record(round: Round): void {
    const t = this.tally;
    if (round.kind === 'fatal') this.tally = { ...t, fatal: round.error };
    else if (round.kind === 'error') {
      this.tally = {
        ...t,
        errors: t.errors + 1,
        consecutiveErrors: t.consecutiveErrors + 1,
        lastError: round.error,
      };
    } else {
      const failures = round.measurements.filter((m) => m.verdict === 'fail');
      this.failed = [...this.failed, ...failures].slice(-FAILED_KEPT);
      this.last = round.measurements.at(-1) ?? this.last;
      this.tally = {
        ...t,
        rounds: t.rounds + 1,
        consecutiveErrors: 0,
        failures: t.failures + failures.length,
        dataSeen: t.dataSeen || round.measurements.some((m) => m.verdict !== 'no-data'),
      };
    }
    const verdict = judge(this.check, this.tally, this.rounds);
    this.state = verdict.state;
    this.reason = verdict.reason;
  }

  report(): CheckReport {
    return {
      name: this.check.name,
      kind: this.check.probe.kind,
      when: this.check.when,
      dryRun: this.check.dryRun,
      state: this.state,
      threshold: thresholdText(this.check),
      rounds: this.tally.rounds,
      of: this.rounds,
      failures: this.tally.failures,
      errors: this.tally.errors,
      last: this.last,
      failed: this.failed,
      reason: this.reason,
    };
  }
}
