// Canary analysis: checks measured against each stage's new pods (HTTP through the API server's
// pod proxy or a URL, Prometheus queries), and the judgement of their measurements. Pure.
// Beside it: templates.ts (URLs and queries), json-path.ts, prometheus.ts (answers).
import { atJsonPath } from './json-path.ts';

/** A bound a measured number must keep, or a value it must equal (HTTP JSON only). */
export interface Threshold {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly equals?: string | number | boolean | undefined;
}

export interface HttpProbe {
  readonly kind: 'http';
  readonly method: 'GET' | 'HEAD' | 'POST';
  /** Through the pod proxy: the container port (a number, or a name the template declares). */
  readonly port: number | string | undefined;
  /** Through the pod proxy: the path on the pod, from `/`. */
  readonly path: string;
  /** Direct form: a URL template (`{{pod}}`, `{{ordinal}}`, `{{namespace}}`, ...); no proxy. */
  readonly url: string | undefined;
  /** Status codes that pass; empty: any 2xx. */
  readonly status: readonly number[];
  /** A JSON path in the body (`$.a.b[0]`) whose value is held to `expect`. */
  readonly jsonPath: string | undefined;
  readonly expect: Threshold | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export type OnNoData = 'fail' | 'pass' | 'wait';

export interface PrometheusProbe {
  readonly kind: 'prometheus';
  readonly address: string;
  /** PromQL with `{{pods}}`, `{{pod}}`, `{{namespace}}`, `{{statefulset}}`, `{{revision}}`, `{{stage}}`. */
  readonly query: string;
  readonly threshold: Threshold;
  readonly onNoData: OnNoData;
  /** Secret values (tokens) are masked by the composition root. */
  readonly headers: Readonly<Record<string, string>>;
  /** Consecutive errors (Prometheus unreachable or answering an error) tolerated. */
  readonly errorLimit: number;
  readonly timeoutMs: number;
}

export interface AnalysisCheck {
  readonly name: string;
  readonly intervalMs: number;
  /** Rounds of measurements, or as many intervals as the soak holds (at least one). */
  readonly count: number | 'soak';
  /** Failed measurements tolerated in a stage. */
  readonly failureLimit: number;
  /** Measured and reported, never failing (nor holding) a stage. */
  readonly dryRun: boolean;
  /** The stages (1-based) it runs in; undefined: every stage. */
  readonly stages: readonly number[] | undefined;
  readonly probe: HttpProbe | PrometheusProbe;
}

type MeasurementVerdict = 'pass' | 'fail' | 'no-data';

/** One measured value: of one pod (HTTP, per-pod queries) or one series (a query over pods). */
export interface Measurement {
  readonly check: string;
  /** The pod, or the series' labels, measured. */
  readonly subject: string;
  /** The value as shown (from the pod or Prometheus: untrusted text). */
  readonly value: string;
  readonly verdict: MeasurementVerdict;
  readonly at: number;
}

/** `stopped`: the stage ended before its rounds did (a dry-run check, or a cancelled run). */
export type CheckState = 'running' | 'passed' | 'failed' | 'stopped';

/** Where one check of one stage stands, as reported. */
export interface CheckReport {
  readonly name: string;
  readonly kind: 'http' | 'prometheus';
  readonly dryRun: boolean;
  readonly state: CheckState;
  /** What passes, e.g. `status 200-299`, `<= 0.05`. */
  readonly threshold: string;
  readonly rounds: number;
  /** Rounds the check takes in this stage. */
  readonly of: number;
  readonly failures: number;
  readonly errors: number;
  readonly last: Measurement | undefined;
  /** The latest failed measurements (at most FAILED_KEPT). */
  readonly failed: readonly Measurement[];
  /** Why it failed, when it did. */
  readonly reason: string | undefined;
}

export const FAILED_KEPT = 5;

/** The rounds a check takes in a stage whose soak is `soakMs`. */
export function roundsOf(check: AnalysisCheck, soakMs: number): number {
  if (check.count !== 'soak') return check.count;
  return Math.max(1, Math.floor(soakMs / check.intervalMs));
}

export function runsInStage(check: AnalysisCheck, stage: number): boolean {
  return check.stages === undefined || check.stages.includes(stage);
}

/** What a check measured so far in a stage. */
export interface Tally {
  readonly rounds: number;
  readonly failures: number;
  readonly consecutiveErrors: number;
  readonly errors: number;
  readonly dataSeen: boolean;
  readonly lastError: string | undefined;
  /** A problem waiting cannot fix (the pod proxy forbidden): fails at once. */
  readonly fatal: string | undefined;
}

export const EMPTY_TALLY: Tally = {
  rounds: 0,
  failures: 0,
  consecutiveErrors: 0,
  errors: 0,
  dataSeen: false,
  lastError: undefined,
  fatal: undefined,
};

/** The verdict of a check from its tally: failed as soon as it cannot pass, passed when its rounds are done. */
export function judge(
  check: AnalysisCheck,
  tally: Tally,
  rounds: number,
): { state: Exclude<CheckState, 'stopped'>; reason?: string } {
  if (tally.fatal !== undefined) return { state: 'failed', reason: tally.fatal };
  if (tally.failures > check.failureLimit) {
    return {
      state: 'failed',
      reason: `${tally.failures} failed measurement${tally.failures === 1 ? '' : 's'}, more than failure-limit ${check.failureLimit}`,
    };
  }
  const errorLimit = check.probe.kind === 'prometheus' ? check.probe.errorLimit : 0;
  if (check.probe.kind === 'prometheus' && tally.consecutiveErrors > errorLimit) {
    return {
      state: 'failed',
      reason: `Prometheus errors: ${tally.consecutiveErrors} in a row, more than error-limit ${errorLimit} (last: ${tally.lastError ?? 'unknown'})`,
    };
  }
  if (tally.rounds < rounds) return { state: 'running' };
  if (check.probe.kind === 'prometheus' && !tally.dataSeen && check.probe.onNoData === 'wait') {
    return {
      state: 'failed',
      reason: `no data in ${rounds} round${rounds === 1 ? '' : 's'} (on-no-data: wait)`,
    };
  }
  return { state: 'passed' };
}

/** The text of a threshold, as reports show it. */
export function thresholdText(check: AnalysisCheck): string {
  const p = check.probe;
  if (p.kind === 'prometheus') return boundText(p.threshold);
  const status = p.status.length ? `status ${p.status.join(', ')}` : 'status 2xx';
  if (p.jsonPath === undefined || p.expect === undefined) return status;
  return `${status}, ${p.jsonPath} ${boundText(p.expect)}`;
}

function boundText(t: Threshold): string {
  if (t.equals !== undefined) return `== ${JSON.stringify(t.equals)}`;
  if (t.min !== undefined && t.max !== undefined) return `${t.min} to ${t.max}`;
  if (t.min !== undefined) return `>= ${t.min}`;
  return `<= ${t.max}`;
}

/** Whether a measured value keeps a threshold. */
export function keeps(t: Threshold, value: unknown): boolean {
  if (t.equals !== undefined) return value === t.equals || String(value) === String(t.equals);
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (Number.isNaN(n)) return false;
  return (t.min === undefined || n >= t.min) && (t.max === undefined || n <= t.max);
}

/** A number as reports show it: up to 4 significant digits. */
export function showNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(4)));
}

/** An HTTP answer (status and body) against the check's status codes and JSON condition. */
export function judgeHttp(
  probe: HttpProbe,
  response: { readonly status: number; readonly body: string },
): Pick<Measurement, 'value' | 'verdict'> {
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

/** One line on what a check does, for the plan: kind and target, threshold, rounds, stages. */
export function describeCheck(check: AnalysisCheck, soakMs: number): string {
  const p = check.probe;
  const target =
    p.kind === 'prometheus'
      ? `Prometheus query, ${thresholdText(check)}`
      : p.url !== undefined
        ? `${p.method} ${p.url}, ${thresholdText(check)}`
        : `${p.method} port ${p.port}${p.path} through the pod proxy, ${thresholdText(check)}`;
  const rounds = `${roundsOf(check, soakMs)} × ${check.intervalMs / 1000}s${check.count === 'soak' ? ' (the soak)' : ''}`;
  const stages = check.stages === undefined ? 'every stage' : `stage ${check.stages.join(', ')}`;
  const limit = check.failureLimit > 0 ? `, failure-limit ${check.failureLimit}` : '';
  return `${check.name}${check.dryRun ? ' (dry run)' : ''}: ${target}; ${rounds}${limit}, ${stages}`;
}
