// The analysis of one stage: every check that runs in it measures the stage's new pods round
// by round (at fixed times from the start, so measuring adds no drift), judges its tally, and
// tells the stage driver when its verdict changes. A dry-run check is measured and reported
// only: it never fails or holds the stage.
import pRetry, { AbortError } from 'p-retry';
import {
  type AnalysisCheck,
  type CheckReport,
  EMPTY_TALLY,
  FAILED_KEPT,
  type HttpProbe,
  judge,
  keeps,
  type Measurement,
  type PrometheusProbe,
  roundsOf,
  runsInStage,
  showNumber,
  type Tally,
  thresholdText,
} from '../../engine/analysis.ts';
import { atJsonPath } from '../../engine/json-path.ts';
import { type PromSample, parsePromAnswer, seriesName } from '../../engine/prometheus.ts';
import { fill, podsRegex } from '../../engine/templates.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import { type HttpClient, type HttpResponse, HttpUnreachable } from '../../ports/http.ts';
import type { Log } from '../../ports/log.ts';

export interface AnalysisDeps {
  readonly cluster: Cluster;
  readonly clock: Clock;
  readonly log: Log;
  readonly http: HttpClient;
}

/** What a stage's analysis measures. */
export interface AnalysisTarget {
  readonly ref: StatefulSetRef;
  readonly revision: string;
  /** 1-based. */
  readonly stage: number;
  /** The pods this stage moved to the new revision, with their ordinals. */
  readonly pods: readonly { readonly name: string; readonly ordinal: number }[];
  readonly soakMs: number;
  /** Container port names of the template, to their numbers. */
  readonly ports: Readonly<Record<string, number>>;
}

/** A failed (not dry-run) check: which, why, and the measurements that failed. */
export interface AnalysisFailure {
  readonly check: string;
  readonly reason: string;
  readonly failed: readonly Measurement[];
}

/** A measurement round's outcome: values, or an error (Prometheus), or a fatal problem. */
type Round =
  | { readonly kind: 'measured'; readonly measurements: readonly Measurement[] }
  | { readonly kind: 'error'; readonly error: string }
  | { readonly kind: 'fatal'; readonly error: string };

class CheckRun {
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

export class StageAnalysis {
  private readonly runs: CheckRun[];
  private readonly stop = new AbortController();
  private readonly deps: AnalysisDeps;
  private readonly target: AnalysisTarget;
  private readonly onChange: (reports: readonly CheckReport[]) => void;
  private loops: Promise<void>[] = [];

  constructor(
    deps: AnalysisDeps,
    checks: readonly AnalysisCheck[],
    target: AnalysisTarget,
    onChange: (reports: readonly CheckReport[]) => void,
  ) {
    this.deps = deps;
    this.target = target;
    this.onChange = onChange;
    this.runs = checks.filter((c) => runsInStage(c, target.stage)).map((c) => new CheckRun(c, target.soakMs));
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
      const round = await this.measure(run.check, signal);
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

  private measure(check: AnalysisCheck, signal: AbortSignal): Promise<Round> {
    return check.probe.kind === 'http'
      ? this.measureHttp(check.name, check.probe, signal)
      : this.measurePrometheus(check.name, check.probe, signal);
  }

  private async measureHttp(name: string, probe: HttpProbe, signal: AbortSignal): Promise<Round> {
    const results = await Promise.all(
      this.target.pods.map(async (pod): Promise<Measurement | string> => {
        try {
          const response = await this.httpOnce(probe, pod, signal);
          return { check: name, subject: pod.name, at: this.deps.clock.now(), ...judgeHttp(probe, response) };
        } catch (error) {
          if (error instanceof HttpUnreachable) {
            return {
              check: name,
              subject: pod.name,
              at: this.deps.clock.now(),
              value: `no answer: ${error.message}`,
              verdict: 'fail',
            };
          }
          return error instanceof Error ? error.message : String(error);
        }
      }),
    );
    const fatal = results.find((r): r is string => typeof r === 'string');
    if (fatal !== undefined) return { kind: 'fatal', error: fatal };
    return { kind: 'measured', measurements: results as Measurement[] };
  }

  private httpOnce(
    probe: HttpProbe,
    pod: { name: string; ordinal: number },
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    const base = { method: probe.method, headers: probe.headers, timeoutMs: probe.timeoutMs, signal };
    if (probe.url !== undefined) {
      const url = fill(probe.url, { ...this.values(), pod: pod.name, ordinal: String(pod.ordinal) });
      return this.deps.http.request({ ...base, url });
    }
    const { cluster } = this.deps;
    if (!cluster.proxyPod) throw new Error('this cluster adapter cannot reach pods through the pod proxy');
    const port = typeof probe.port === 'number' ? probe.port : this.target.ports[probe.port ?? ''];
    if (port === undefined)
      throw new Error(`no container of the pod template declares a port named ${probe.port}`);
    return cluster.proxyPod(this.target.ref, pod.name, port, { ...base, path: probe.path });
  }

  private async measurePrometheus(name: string, probe: PrometheusProbe, signal: AbortSignal): Promise<Round> {
    const perPod = /\{\{\s*pod\s*\}\}/.test(probe.query);
    const names = this.target.pods.map((p) => p.name);
    // One query a pod ({{pod}}, all at once), or one for the stage's pods, named by them all.
    const subjects = perPod ? names : [names.join(', ')];
    let answers: { subject: string; samples: PromSample[] }[];
    try {
      answers = await Promise.all(
        subjects.map(async (subject) => {
          const query = fill(probe.query, { ...this.values(), ...(perPod ? { pod: subject } : {}) });
          return { subject, samples: await this.queryPrometheus(probe, query, signal) };
        }),
      );
    } catch (error) {
      return { kind: 'error', error: error instanceof Error ? error.message : String(error) };
    }
    const at = this.deps.clock.now();
    const measurements = answers.flatMap(({ subject, samples }) =>
      measuredSamples(name, probe, samples, subject, at),
    );
    return { kind: 'measured', measurements };
  }

  /** One instant query, retried (p-retry) when Prometheus is unreachable or answers 5xx/429. */
  private queryPrometheus(probe: PrometheusProbe, query: string, signal: AbortSignal) {
    const url = `${probe.address}/api/v1/query?${new URLSearchParams({ query })}`;
    return pRetry(
      async () => {
        const response = await this.deps.http.request({
          method: 'GET',
          url,
          headers: { Accept: 'application/json', ...probe.headers },
          timeoutMs: probe.timeoutMs,
          signal,
        });
        const { status, body } = response;
        if (status >= 500 || status === 429)
          throw new Error(`Prometheus answered ${status}: ${body.slice(0, 200)}`);
        if (status !== 200) throw new AbortError(`Prometheus answered ${status}: ${promErrorText(body)}`);
        try {
          return parsePromAnswer(body);
        } catch (error) {
          throw new AbortError((error as Error).message);
        }
      },
      { retries: 2, minTimeout: 200, maxTimeout: 1000, signal },
    ).catch((error: unknown) => {
      if (error instanceof HttpUnreachable)
        throw new Error(`Prometheus unreachable at ${probe.address}: ${error.message}`);
      throw error;
    });
  }

  private values(): Record<string, string> {
    const { ref, revision, stage, pods } = this.target;
    return {
      namespace: ref.namespace,
      statefulset: ref.name,
      revision,
      stage: String(stage),
      pods: podsRegex(pods.map((p) => p.name)),
    };
  }
}

/**
 * A query's samples as measurements against the check's bounds; no samples, or NaN (what a ratio
 * over no traffic, 0/0, gives), is no data, judged as `on-no-data` says.
 */
function measuredSamples(
  check: string,
  probe: PrometheusProbe,
  samples: readonly PromSample[],
  fallback: string,
  at: number,
): Measurement[] {
  const noData = probe.onNoData === 'fail' ? 'fail' : probe.onNoData === 'pass' ? 'pass' : 'no-data';
  if (samples.length === 0) return [{ check, subject: fallback, value: 'no data', verdict: noData, at }];
  return samples.map((s) => {
    const subject = seriesName(s.labels, fallback);
    if (Number.isNaN(s.value)) return { check, subject, value: 'NaN (no data)', verdict: noData, at };
    const verdict = keeps(probe.threshold, s.value) ? 'pass' : 'fail';
    return { check, subject, value: showNumber(s.value), verdict, at };
  });
}

/** An HTTP answer against the check's status codes and JSON condition. */
function judgeHttp(probe: HttpProbe, response: HttpResponse): Pick<Measurement, 'value' | 'verdict'> {
  const statusOk = probe.status.length
    ? probe.status.includes(response.status)
    : response.status >= 200 && response.status < 300;
  // What a failing pod answered is the first thing its owners want to see.
  if (!statusOk) return { value: `${response.status}${excerpt(response.body)}`, verdict: 'fail' };
  if (probe.jsonPath === undefined || probe.expect === undefined) {
    return { value: `${response.status}`, verdict: 'pass' };
  }
  let value: unknown;
  try {
    value = atJsonPath(JSON.parse(response.body), probe.jsonPath);
  } catch {
    return { value: `${response.status}, not JSON${excerpt(response.body)}`, verdict: 'fail' };
  }
  const shown = value === undefined ? 'missing' : JSON.stringify(value).slice(0, 80);
  return {
    value: `${response.status}, ${probe.jsonPath} = ${shown}`,
    verdict: keeps(probe.expect, value) ? 'pass' : 'fail',
  };
}

/** The start of a body, on one line, for a failed measurement. */
function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  if (line === '') return '';
  return `: ${line.length > 100 ? `${line.slice(0, 99)}…` : line}`;
}

/** Container port names of a pod template, to their numbers. */
export function portsOf(template: unknown): Record<string, number> {
  const spec = (
    template as { spec?: { containers?: { ports?: { name?: string; containerPort?: number }[] }[] } }
  )?.spec;
  const ports: Record<string, number> = {};
  for (const c of spec?.containers ?? []) {
    for (const p of c.ports ?? [])
      if (p.name && typeof p.containerPort === 'number') ports[p.name] = p.containerPort;
  }
  return ports;
}

/** Prometheus' own error text from an error answer, else the start of the body. */
function promErrorText(body: string): string {
  try {
    parsePromAnswer(body);
    return body.slice(0, 200);
  } catch (error) {
    return (error as Error).message;
  }
}
