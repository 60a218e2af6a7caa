// Prometheus instant-query answers, read into samples, and the names reports give their series.
// Pure: the runner makes the request.
import { keeps, type Measurement, type PrometheusProbe, showNumber } from './analysis.ts';

export interface PromSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * The samples of a Prometheus instant-query answer (`vector` or `scalar`); throws with
 * Prometheus' own error text when it answered an error or something else.
 */
export function parsePromAnswer(body: string): PromSample[] {
  let answer: {
    status?: string;
    error?: string;
    errorType?: string;
    data?: { resultType?: string; result?: unknown };
  };
  try {
    answer = JSON.parse(body);
  } catch {
    throw new Error(`not a Prometheus API answer: ${body.slice(0, 120)}`);
  }
  if (answer.status !== 'success')
    throw new Error(`${answer.errorType ?? 'error'}: ${answer.error ?? 'no detail'}`);
  const { resultType, result } = answer.data ?? {};
  if (resultType === 'scalar' && Array.isArray(result)) return [{ labels: {}, value: Number(result[1]) }];
  if (resultType !== 'vector' || !Array.isArray(result))
    throw new Error(
      `the query gives a ${resultType ?? 'result'} value, not a number: write it to give an instant vector`,
    );
  return result.map((r: { metric?: Record<string, string>; value?: [number, string] }) => ({
    labels: r.metric ?? {},
    value: Number(r.value?.[1]),
  }));
}

/** Names a series for reports: its pod label, else its labels, else `value`. */
function seriesName(labels: Readonly<Record<string, string>>, fallback: string): string {
  if (labels.pod) return labels.pod;
  const pairs = Object.entries(labels).filter(([k]) => k !== '__name__');
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}` : fallback;
}

/**
 * A query's samples as measurements against the check's bounds; no samples, or NaN (what a ratio
 * over no traffic, 0/0, gives), is no data, judged as `on-no-data` says.
 */
export function measuredSamples(
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

/** Prometheus' own error text from an error answer (its body), else the start of the body. */
export function promErrorText(body: string): string {
  try {
    parsePromAnswer(body);
    return body.slice(0, 200);
  } catch (error) {
    return (error as Error).message;
  }
}
