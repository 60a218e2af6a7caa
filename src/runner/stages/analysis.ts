// The analysis of one stage: every check that runs in it measures the stage's new pods round
// by round (at fixed times from the start, so measuring adds no drift), judges its tally, and
// tells the stage driver when its verdict changes. A dry-run check is measured and reported
// only: it never fails or holds the stage.
import {
  type AnalysisCheck,
  type CheckReport,
  type Measurement,
  runsInStage,
  thresholdText,
} from '../../engine/analysis.ts';
import { CRASH_LOG, type CrashLog, crashLog, crashLogLines } from '../../engine/crash-log.ts';
import type { StageFailure } from '../../engine/decide.ts';
import type { Observation } from '../../engine/observation.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import type { HttpClient } from '../../ports/http.ts';
import type { Log } from '../../ports/log.ts';
import { containersOf, portsOf } from '../rollout/objects.ts';
import { CheckRun, type Round } from './check-run.ts';
import { type AnalysisDeps, type AnalysisTarget, Measurer } from './measure.ts';

/** Analysis checks to run in each stage, once its pods are Ready on the target revision. */
export interface StageAnalysisSpec {
  readonly checks: readonly AnalysisCheck[];
  readonly soakMs: number;
}

/** A failed (not dry-run) check: which, why, and the measurements that failed. */
export interface AnalysisFailure {
  readonly check: string;
  readonly reason: string;
  readonly failed: readonly Measurement[];
}

export class StageAnalysis {
  private readonly runs: CheckRun[];
  private readonly stop = new AbortController();
  private readonly deps: AnalysisDeps;
  private readonly target: AnalysisTarget;
  private readonly onChange: (reports: readonly CheckReport[]) => void;
  private loops: Promise<void>[] = [];
  private readonly measurer: Measurer;

  constructor(
    deps: AnalysisDeps,
    checks: readonly AnalysisCheck[],
    target: AnalysisTarget,
    onChange: (reports: readonly CheckReport[]) => void,
  ) {
    this.deps = deps;
    this.target = target;
    this.onChange = onChange;
    this.measurer = new Measurer(deps, target);
    // Before-checks run before the stage (guards.ts); these measure its new pods after.
    this.runs = checks
      .filter((c) => c.when !== 'before' && runsInStage(c, target.stage))
      .map((c) => new CheckRun(c, target.soakMs));
  }

  get empty(): boolean {
    return this.runs.length === 0;
  }

  /** Starts every check's rounds; `signal` (the run's cancel) stops them too. */
  start(signal: AbortSignal): void {
    const stop = AbortSignal.any([signal, this.stop.signal]);
    const startedAt = this.deps.clock.now();
    const names = this.target.pods.map((p) => p.name).join(', ');
    this.deps.log.info(
      `Analysis of stage ${this.target.stage} (${names}): ${this.runs
        .map(
          (r) =>
            `${r.check.name}${r.check.dryRun ? ' (dry run)' : ''}, ${r.rounds} × ${r.check.intervalMs} ms`,
        )
        .join('; ')}`,
    );
    this.onChange(this.reports());
    this.loops = this.runs.map((run) => this.loop(run, startedAt, stop).catch(() => undefined));
  }

  /** Passed: every check that gates passed; failed: one of them failed; else running. */
  get verdict(): 'running' | 'passed' | 'failed' {
    const gating = this.runs.filter((r) => !r.check.dryRun);
    if (gating.some((r) => r.state === 'failed')) return 'failed';
    return gating.every((r) => r.state === 'passed') ? 'passed' : 'running';
  }

  failure(): AnalysisFailure | undefined {
    const run = this.runs.find((r) => !r.check.dryRun && r.state === 'failed');
    if (!run) return undefined;
    return { check: run.check.name, reason: run.reason ?? 'failed', failed: run.failed };
  }

  reports(): CheckReport[] {
    return this.runs.map((r) => r.report());
  }

  /**
   * Stops every check's rounds (the stage ended) and waits for them; a check still measuring
   * (dry run, or a cancel) is reported stopped.
   */
  async end(): Promise<void> {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    await Promise.all(this.loops);
    const unfinished = this.runs.filter((r) => r.state === 'running');
    if (unfinished.length === 0 || this.loops.length === 0) return;
    for (const run of unfinished) run.state = 'stopped';
    this.onChange(this.reports());
  }

  private async loop(run: CheckRun, startedAt: number, signal: AbortSignal): Promise<void> {
    const { clock } = this.deps;
    let tick = 0;
    while (run.state === 'running' && !signal.aborted) {
      tick++;
      await clock.sleep(Math.max(0, startedAt + tick * run.check.intervalMs - clock.now()), signal);
      if (signal.aborted) return;
      const round = await this.measurer.measure(run.check, signal);
      if (signal.aborted) return;
      run.record(round);
      this.logRound(run, round);
      this.onChange(this.reports());
    }
  }

  private logRound(run: CheckRun, round: Round): void {
    const { log } = this.deps;
    const head = `Analysis ${run.check.name}${run.check.dryRun ? ' (dry run)' : ''}, stage ${this.target.stage}`;
    if (round.kind !== 'measured')
      log.warning(`${head}: ${round.kind === 'fatal' ? '' : 'error: '}${round.error}`);
    else {
      for (const m of round.measurements) {
        log.info(
          `${head}, round ${run.tally.rounds}/${run.rounds}: ${m.subject} = ${m.value} (${thresholdText(run.check)}) ${m.verdict} at ${new Date(m.at).toISOString()}`,
        );
      }
    }
    if (run.state !== 'running') {
      const text = `${head}: ${run.state}${run.reason ? `: ${run.reason}` : ''}`;
      if (run.state === 'failed') log.warning(text);
      else log.info(text);
    }
  }
}

/** What the gate needs of the drive: where, the target revision, the run's cancel, and who to tell. */
interface GateDrive {
  readonly ref: StatefulSetRef;
  readonly revision: string;
  readonly signal: AbortSignal;
  /** The stage's checks measured (1-based stage). */
  readonly onChange: (stage: number, reports: readonly CheckReport[]) => void;
}

/** The stage driver's gate on the analysis of the stage in progress, begun once its pods are Ready. */
export class AnalysisGate {
  private current: { readonly stage: number; readonly run: StageAnalysis } | undefined;
  private readonly deps: Omit<AnalysisDeps, 'http'> & { readonly http?: HttpClient };
  private readonly spec: StageAnalysisSpec | undefined;
  private readonly drive: GateDrive;

  constructor(deps: AnalysisGate['deps'], spec: StageAnalysisSpec | undefined, drive: GateDrive) {
    this.deps = deps;
    this.spec = spec;
    this.drive = drive;
  }

  /**
   * Starts the analysis of `stage` (0-based) unless begun; a failure once a check that gates has
   * failed. `ordinals`: the ordinals the stage moves to the target revision.
   */
  check(stage: number, observation: Observation, ordinals: readonly number[]): StageFailure | undefined {
    const spec = this.spec;
    if (!spec || spec.checks.length === 0) return undefined;
    const { ref } = this.drive;
    if (this.current?.stage !== stage) {
      const run = new StageAnalysis(
        { ...this.deps, http: this.deps.http ?? noHttp },
        spec.checks,
        {
          ref,
          revision: this.drive.revision,
          stage: stage + 1,
          pods: ordinals.map((ordinal) => ({ name: `${ref.name}-${ordinal}`, ordinal })),
          soakMs: spec.soakMs,
          ports: portsOf(observation.statefulSet.template),
          firstContainer: containersOf(observation.statefulSet.template)[0] ?? '',
        },
        (reports) => this.drive.onChange(stage + 1, reports),
      );
      this.current = { stage, run };
      if (!run.empty) run.start(this.drive.signal);
    }
    const failure = this.current.run.failure();
    if (!failure) return undefined;
    const lines = failure.failed.map((m) => `${m.subject}: ${m.value}`);
    const subject = failure.failed.at(-1)?.subject ?? '';
    return {
      stage: stage + 1,
      // A measurement of one of the stage's pods names it; a query over several names none.
      pod: ordinals.some((o) => `${ref.name}-${o}` === subject) ? subject : '',
      container: undefined,
      reason: 'AnalysisFailed',
      message: `analysis check ${failure.check} failed: ${failure.reason}${lines.length ? ` (${lines.join('; ')})` : ''}`,
      terminationMessage: undefined,
      ...jobLogs(failure.failed, this.deps.log),
    };
  }

  /** Whether the stage's analysis still holds it: begun, with checks, and not passed yet. */
  get holding(): boolean {
    const run = this.current?.run;
    return !(run === undefined || run.verdict === 'passed' || run.empty);
  }

  /** Stops the stage's analysis (dry-run checks still measuring, or a cancel). */
  async end(): Promise<void> {
    await this.current?.run.end();
  }
}

/**
 * The logs of the failed Jobs of a Job check (or hook), shown with the failure like a crashed
 * container's, and written to the run's log the same way.
 */
export function jobLogs(failed: readonly Measurement[], log: Log): { crashLogs?: CrashLog[] } {
  const logs = failed.flatMap((m) =>
    m.job
      ? [
          crashLog(
            { pod: `Job ${m.job.name}`, container: m.job.container, previous: false },
            m.job.log ? { kind: 'text', text: m.job.log } : { kind: 'none' },
          ),
        ]
      : [],
  );
  const kept = logs.slice(-CRASH_LOG.PODS);
  for (const line of kept.flatMap(crashLogLines)) log.info(line);
  return kept.length ? { crashLogs: kept } : {};
}

/** Without an HTTP client (a runner test that has no checks), URL and Prometheus checks cannot run. */
export const noHttp: HttpClient = {
  request: () => Promise.reject(new Error('no HTTP client was wired into this run')),
};
