// Small helpers shared by the benchmark scripts: a sub-millisecond epoch clock, percentiles,
// the machine description and the table/JSON output every script prints.
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';

/** Epoch milliseconds with sub-millisecond precision (one clock for every timestamp). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The p-th percentile (0..100) by linear interpolation between closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (rank - lo);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface Load {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
}

export function load(): Load {
  const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
  return { load1: round(load1, 2), load5: round(load5, 2), load15: round(load15, 2) };
}

export function machine(): Record<string, unknown> {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    freeMemoryMiB: Math.round(freemem() / 2 ** 20),
    node: process.version,
    load: load(),
    date: new Date().toISOString(),
  };
}

/** One reported figure: its value(s) beside the goal, the load while it ran, and the raw details. */
export interface Figure {
  readonly id: string;
  readonly title: string;
  /** Rows of [measure, value, goal, verdict]. */
  readonly rows: readonly (readonly [string, string, string, string])[];
  readonly loadBefore: Load;
  readonly loadAfter: Load;
  readonly details: Record<string, unknown>;
}

export function verdict(pass: boolean | undefined): string {
  if (pass === undefined) return '-';
  return pass ? 'met' : 'MISSED';
}

export function printFigure(figure: Figure): void {
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(...[['measure', 'value', 'goal', 'verdict'], ...figure.rows].map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n## ${figure.title}`);
  console.log(
    `load average before ${fmtLoad(figure.loadBefore)}, after ${fmtLoad(figure.loadAfter)} (1/5/15 min)\n`,
  );
  console.log(line(['measure', 'value', 'goal', 'verdict']));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of figure.rows) console.log(line(row));
  console.log(`\nJSON ${JSON.stringify(figure)}`);
}

export function fmtLoad(l: Load): string {
  return `${l.load1}/${l.load5}/${l.load15}`;
}

export function ms(value: number): string {
  return Number.isFinite(value) ? `${round(value, 1)} ms` : 'n/a';
}

/** Rejects after `timeoutMs` naming `what`, so no bench step can hang. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: ${what} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
