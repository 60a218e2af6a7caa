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

/** A command in a container of each pod: passes on exit code 0 and, when given, its output's condition. */
export interface ExecProbe {
  readonly kind: 'exec';
  /** The container; config fills in the template's first one when the input names none. */
  readonly container: string | undefined;
  /** argv with `{{pod}}`, `{{ordinal}}`, `{{namespace}}`, `{{statefulset}}`, `{{revision}}`, `{{stage}}`. */
  readonly command: readonly string[];
  /** A JSON path into standard output, held to `expect`; without it `expect` holds the trimmed output. */
  readonly jsonPath: string | undefined;
  readonly expect: Threshold | undefined;
  /** A regular expression the trimmed output must match. */
  readonly regex: string | undefined;
  readonly timeoutMs: number;
}

/** A Job created each round from a template (placeholders filled): passes when it completes. */
export interface JobProbe {
  readonly kind: 'job';
  /** A batch/v1 Job (inline, or a Job of the manifests by `manifest` name) with `{{...}}` placeholders. */
  readonly template: Readonly<Record<string, unknown>>;
  /** Where the template came from, for the plan and errors: `inline` or the manifest's name. */
  readonly source: string;
  readonly timeoutMs: number;
}

/** When a check runs: after a stage's pods are Ready (its new pods), or before the stage restarts any. */
type CheckWhen = 'after' | 'before';

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
  readonly probe: HttpProbe | PrometheusProbe | ExecProbe | JobProbe;
  readonly when: CheckWhen;
  /**
   * Before-checks: the running pods asked, as a label selector (`role=replica`); undefined:
   * every pod of the StatefulSet.
   */
  readonly pods: string | undefined;
  /** Before-checks: how long the check may fail and be retried before the stage fails. */
  readonly timeoutMs: number | undefined;
}

type CheckKind = AnalysisCheck['probe']['kind'];

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
  /** A Job's: its name and the last lines of its pod's log (untrusted), for a failure's report. */
  readonly job?: { readonly name: string; readonly container: string; readonly log: string };
}

/** `stopped`: the stage ended before its rounds did (a dry-run check, or a cancelled run). */
export type CheckState = 'running' | 'passed' | 'failed' | 'stopped';

/** Where one check of one stage stands, as reported. */
export interface CheckReport {
  readonly name: string;
  readonly kind: CheckKind;
  /** Undefined: after (a check of the stage's new pods). */
  readonly when?: CheckWhen;
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
  if (p.kind === 'job') return 'Job complete';
  if (p.kind === 'exec') return execConditionText(p);
  const status = p.status.length ? `status ${p.status.join(', ')}` : 'status 2xx';
  if (p.jsonPath === undefined || p.expect === undefined) return status;
  return `${status}, ${p.jsonPath} ${boundText(p.expect)}`;
}

function execConditionText(p: ExecProbe): string {
  const parts = ['exit 0'];
  if (p.regex !== undefined) parts.push(`output ~ /${p.regex}/`);
  if (p.expect !== undefined) parts.push(`${p.jsonPath ?? 'output'} ${boundText(p.expect)}`);
  return parts.join(', ');
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
  const target = targetText(check);
  const stages = check.stages === undefined ? 'every stage' : `stage ${check.stages.join(', ')}`;
  const dry = check.dryRun ? ' (dry run)' : '';
  if (check.when === 'before') {
    const pods = check.pods === undefined ? 'every running pod' : `running pods ${check.pods}`;
    const count =
      check.count === 'soak' || check.count === 1 ? '' : `, ${check.count} passing rounds in a row`;
    return `${check.name}${dry}: before ${stages}, on ${pods}: ${target}; every ${check.intervalMs / 1000}s${count} until it passes, for up to ${showNumber((check.timeoutMs ?? 0) / 1000)}s`;
  }
  const rounds = `${roundsOf(check, soakMs)} × ${check.intervalMs / 1000}s${check.count === 'soak' ? ' (the soak)' : ''}`;
  const limit = check.failureLimit > 0 ? `, failure-limit ${check.failureLimit}` : '';
  return `${check.name}${dry}: ${target}; ${rounds}${limit}, ${stages}`;
}

function targetText(check: AnalysisCheck): string {
  const p = check.probe;
  switch (p.kind) {
    case 'prometheus':
      return `Prometheus query, ${thresholdText(check)}`;
    case 'http':
      return p.url !== undefined
        ? `${p.method} ${p.url}, ${thresholdText(check)}`
        : `${p.method} port ${p.port}${p.path} through the pod proxy, ${thresholdText(check)}`;
    case 'exec':
      return `exec ${p.command.join(' ')} in container ${p.container ?? '(first)'}, ${thresholdText(check)}`;
    case 'job':
      return `Job from ${p.source === 'inline' ? 'an inline template' : `manifest ${p.source}`}, ${thresholdText(check)}`;
  }
}
