// Prometheus instant-query answers, read into samples, and the names reports give their series.
// Pure: the runner makes the request.

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
export function seriesName(labels: Readonly<Record<string, string>>, fallback: string): string {
  if (labels.pod) return labels.pod;
  const pairs = Object.entries(labels).filter(([k]) => k !== '__name__');
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}` : fallback;
}
