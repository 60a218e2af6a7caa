// Before-checks: asked of the running pods before a stage lowers the partition ("is it safe to
// restart the next pods?"), every interval, until `count` rounds in a row pass; a failing one is
// retried until its own timeout, since nothing of the stage has restarted yet.

import {
  type AnalysisCheck,
  type CheckReport,
  FAILED_KEPT,
  type Measurement,
  thresholdText,
} from '../../engine/analysis.ts';
import { judgeBefore } from '../../engine/before-check.ts';
import type { StageFailure } from '../../engine/decide.ts';
import type { Observation, PodObservation } from '../../engine/observation.ts';
import { matches } from '../../engine/selector.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import type { HttpClient } from '../../ports/http.ts';
import type { Log } from '../../ports/log.ts';
import { containersOf, portsOf } from '../rollout/objects.ts';
import { noHttp } from './analysis.ts';
import { Measurer } from './measure.ts';

/** What the guards use: the ports of a drive of stages. */
/** How a stage's guards ended: go on, fail the stage, or pause before it. */
export type GuardOutcome =
  | { readonly kind: 'go' }
  | { readonly kind: 'failed'; readonly failure: StageFailure }
  | { readonly kind: 'paused'; readonly reason: string };

export interface GuardDeps {
  readonly cluster: Cluster;
  readonly clock: Clock;
  readonly log: Log;
  readonly http?: HttpClient;
}

/** The drive's view of the StatefulSet while a guard waits: the latest observation, and a wait for the next. */
export interface GuardView {
  latest(): Observation;
  /** Until the next watch event or `at`, whichever is first. */
  waitUntil(at: number): Promise<void>;
}

/** The before-checks of one stage. */
export class BeforeChecks {
  private readonly deps: GuardDeps;
  private readonly ref: StatefulSetRef;
  private readonly target: string;

  constructor(deps: GuardDeps, ref: StatefulSetRef, target: string) {
    this.deps = deps;
    this.ref = ref;
    this.target = target;
  }

  /** Every before-check at once, each retried every interval until it passes or its timeout ends. */
  async run(
    checks: readonly AnalysisCheck[],
    stage: number,
    view: GuardView,
    signal: AbortSignal,
    onReports: (reports: readonly CheckReport[]) => void,
  ): Promise<BeforeRun | undefined> {
    const runs = checks.map((check) => new BeforeRun(check));
    const report = () => onReports(runs.map((r) => r.report()));
    report();
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    await Promise.all(
      runs.map(async (run) => {
        await this.loop(run, stage, view, both, report);
        if (run.state === 'failed' && !run.check.dryRun) stop.abort();
      }),
    );
    for (const run of runs) if (run.state === 'running') run.state = 'stopped';
    report();
    return runs.find((r) => r.state === 'failed' && !r.check.dryRun);
  }

  private async loop(
    run: BeforeRun,
    stage: number,
    view: GuardView,
    signal: AbortSignal,
    report: () => void,
  ): Promise<void> {
    const { clock, log } = this.deps;
    const startedAt = clock.now();
    const head = `Before-check ${run.check.name}${run.check.dryRun ? ' (dry run)' : ''}, stage ${stage}`;
    for (let round = 0; run.state === 'running' && !signal.aborted; round++) {
      if (round > 0)
        await clock.sleep(Math.max(0, startedAt + round * run.check.intervalMs - clock.now()), signal);
      if (signal.aborted) return;
      const observation = view.latest();
      const pods = askedPods(run.check, observation.pods);
      const measurer = new Measurer(
        { ...this.deps, http: this.deps.http ?? noHttp },
        {
          ref: this.ref,
          revision: this.target,
          stage,
          pods: pods.map((p) => ({ name: p.name, ordinal: p.ordinal })),
          soakMs: 0,
          ports: portsOf(observation.statefulSet.template),
          firstContainer: containersOf(observation.statefulSet.template)[0] ?? '',
        },
      );
      const measured =
        pods.length === 0 && run.check.probe.kind !== 'job' && run.check.probe.kind !== 'prometheus'
          ? { kind: 'measured' as const, measurements: [noPods(run.check, clock.now())] }
          : await measurer.measure(run.check, signal);
      if (signal.aborted) return;
      run.record(measured, clock.now() - startedAt);
      if (measured.kind === 'measured')
        for (const m of measured.measurements)
          log.info(
            `${head}, round ${run.rounds}: ${m.subject} = ${m.value} (${thresholdText(run.check)}) ${m.verdict}`,
          );
      else log.warning(`${head}: ${measured.error}`);
      if (run.state !== 'running')
        (run.state === 'failed' ? log.warning : log.info).call(
          log,
          `${head}: ${run.state}${run.reason ? `: ${run.reason}` : ''}`,
        );
      // A dry-run before-check is asked once: it reports, it never holds the stage.
      if (run.check.dryRun && run.state === 'running') run.state = run.passedInARow > 0 ? 'passed' : 'failed';
      report();
    }
  }
}

/** The running pods a before-check asks: its `pods` selector's, or every one. */
function askedPods(check: AnalysisCheck, pods: readonly PodObservation[]): PodObservation[] {
  const selector = check.pods;
  return pods.filter(
    (p) =>
      p.phase === 'Running' && !p.deleting && (selector === undefined || matches(selector, p.labels ?? {})),
  );
}

function noPods(check: AnalysisCheck, at: number): Measurement {
  return {
    check: check.name,
    subject: check.pods ?? 'pods',
    value: `no running pod${check.pods ? ` matches ${check.pods}` : ''}`,
    verdict: 'fail',
    at,
  };
}

/** One before-check's rounds in one stage. */
export class BeforeRun {
  state: CheckReport['state'] = 'running';
  reason: string | undefined;
  rounds = 0;
  failures = 0;
  errors = 0;
  passedInARow = 0;
  last: Measurement | undefined;
  failed: Measurement[] = [];
  private fatal: string | undefined;
  private lastFailure: string | undefined;
  readonly check: AnalysisCheck;

  constructor(check: AnalysisCheck) {
    this.check = check;
  }

  record(round: Awaited<ReturnType<Measurer['measure']>>, elapsedMs: number): void {
    if (round.kind === 'fatal') this.fatal = round.error;
    else if (round.kind === 'error') {
      this.errors++;
      this.passedInARow = 0;
      this.lastFailure = round.error;
    } else {
      this.rounds++;
      const bad = round.measurements.filter((m) => m.verdict !== 'pass');
      this.last = round.measurements.at(-1) ?? this.last;
      if (bad.length === 0 && round.measurements.length > 0) this.passedInARow++;
      else {
        this.passedInARow = 0;
        this.failures++;
        const failedNow = bad.length ? bad : round.measurements;
        this.failed = [...this.failed, ...failedNow].slice(-FAILED_KEPT);
        this.lastFailure = failedNow.map((m) => `${m.subject}: ${m.value}`).join('; ') || 'no measurement';
      }
    }
    const verdict = judgeBefore(
      this.check,
      { passedInARow: this.passedInARow, fatal: this.fatal, lastFailure: this.lastFailure },
      elapsedMs,
    );
    this.state = verdict.state;
    this.reason = verdict.reason;
  }

  report(): CheckReport {
    return {
      name: this.check.name,
      kind: this.check.probe.kind,
      when: 'before',
      dryRun: this.check.dryRun,
      state: this.state,
      threshold: thresholdText(this.check),
      rounds: this.rounds,
      of: this.check.count === 'soak' ? 1 : this.check.count,
      failures: this.failures,
      errors: this.errors,
      last: this.last,
      failed: this.failed,
      reason: this.reason,
    };
  }
}
