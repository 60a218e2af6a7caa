// Figure 3, API requests per rollout, counted by the recording proxy and split by verb (and by
// verb and resource in the JSON), for 10 and 100 replicas and for 3 and 4 stages, one run with a
// longer soak (does the count grow with elapsed time?), the 2 s polling baseline, and a failed
// rollout: the canary crash-loops, the stage fails, its crashed containers' previous logs are read
// (`get pods/log`, at most CRASH_LOG.PODS a failed stage) and the run rolls back. The kubelet
// stand-in serves no logs, so each log read fails fast: this counts the requests, not a log's time.
// 100 replicas use podManagementPolicy Parallel and terminationGracePeriodSeconds 0 so they come
// up and roll quickly.
//   node bench/requests.ts [--quick]   (--quick: 10 replicas only)
import { parseArgs } from 'node:util';
import { CRASH_LOG } from '../src/engine/crash-log.ts';
import { rolloutScenario, type ScenarioOptions, type ScenarioResult } from './scenario.ts';
import { type Figure, load, printFigure, round, verdict } from './stats.ts';

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

function label(o: ScenarioOptions, stages: number): string {
  if (o.failing)
    return `action, ${o.replicas} replicas, canary crash-loops (\`app:v1-crashloop\`) and is rolled back; the stand-in serves no logs, so each log read fails fast`;
  return `${o.who === 'action' ? 'action' : 'polling 2 s'}, ${o.replicas} replicas, ${stages} stages, soak ${o.soakMs / 1000} s`;
}

function byVerb(r: ScenarioResult): string {
  const parts = VERBS.filter((v) => (r.counts.byVerb[v] ?? 0) > 0).map((v) => `${v} ${r.counts.byVerb[v]}`);
  const other = Object.entries(r.counts.byVerb).filter(([v]) => !VERBS.includes(v));
  return [...parts, ...other.map(([v, n]) => `${v} ${n}`)].join(', ');
}

export function scenarios(quick: boolean): ScenarioOptions[] {
  const big = { podManagementPolicy: 'Parallel', terminationGraceSeconds: 0 } as const;
  const list: ScenarioOptions[] = [
    { who: 'action', replicas: 10, steps: '1, 50%, 100%', soakMs: 2000 },
    { who: 'action', replicas: 10, steps: '1, 25%, 50%, 100%', soakMs: 2000 },
    { who: 'action', replicas: 10, steps: '1, 25%, 50%, 100%', soakMs: 15_000 },
    { who: 'polling', replicas: 10, steps: '1, 25%, 50%, 100%', soakMs: 2000 },
    { who: 'action', replicas: 10, steps: '1, 50%, 100%', soakMs: 2000, failing: true },
  ];
  if (!quick) {
    list.push(
      { who: 'action', replicas: 100, steps: '1, 50%, 100%', soakMs: 2000, ...big },
      { who: 'action', replicas: 100, steps: '1, 25%, 50%, 100%', soakMs: 2000, ...big },
      { who: 'polling', replicas: 100, steps: '1, 25%, 50%, 100%', soakMs: 2000, ...big },
    );
  }
  return list;
}

/** Crash-log reads: `GET .../pods/{name}/log`. */
function logReads(r: ScenarioResult): number {
  return r.counts.byVerbAndResource['get pods/log'] ?? 0;
}

function row(r: ScenarioResult): [string, string, string, string] {
  const cost = `${round(r.counts.responseBytes / 1024, 0)} KiB; ${round(r.wallMs / 1000, 1)} s`;
  if (r.options.failing) {
    const reads = logReads(r);
    return [
      label(r.options, r.stages.length),
      `${r.counts.total} (${byVerb(r)}); get pods/log ${reads}; result ${r.run?.outputs.result}; ${cost}`,
      `get pods/log 1 to ${CRASH_LOG.PODS} (one a crashed pod, at most ${CRASH_LOG.PODS} a failed stage)`,
      verdict(reads >= 1 && reads <= CRASH_LOG.PODS),
    ];
  }
  return [
    label(r.options, r.stages.length),
    `${r.counts.total} (${byVerb(r)}); ${cost}`,
    r.options.who === 'action' ? 'grows with stages only' : '(baseline)',
    '-',
  ];
}

/** Lease renewals: one conditional UPDATE every 10 s while the lock is held. */
export function renewals(r: ScenarioResult): number {
  return r.counts.byVerbAndResource['update leases'] ?? 0;
}

/**
 * Requests other than lease renewals: the part that should depend on the stages only. The
 * first renewal reads the lease once (the acquire did not keep it), later ones only write.
 */
export function withoutRenewals(r: ScenarioResult): number {
  const n = renewals(r);
  return r.counts.total - n - (n > 0 ? 1 : 0);
}

export async function measureRequests(quick = false): Promise<Figure> {
  const loadBefore = load();
  const results: ScenarioResult[] = [];
  for (const o of scenarios(quick)) results.push(await rolloutScenario(o));
  const rows = results.map(row);
  const actions = results.filter((r) => r.options.who === 'action' && !r.options.failing);
  const sameStages = (n: number) => actions.filter((r) => r.stages.length === n).map(withoutRenewals);
  const independent = [3, 4].every((n) => new Set(sameStages(n)).size <= 1);
  rows.push([
    'action: same count (lease renewals aside) for the same stages at any replicas/soak',
    independent ? 'yes' : `no: ${[3, 4].map((n) => `${n} stages ${sameStages(n).join('/')}`).join(', ')}`,
    'yes',
    verdict(independent),
  ]);
  return {
    id: 'requests',
    title: '3. API requests per rollout (counted by the proxy)',
    rows,
    loadBefore,
    loadAfter: load(),
    details: {
      runs: results.map((r) => ({
        ...r.options,
        stages: r.stages.length,
        result: r.run?.outputs.result,
        wallMs: Math.round(r.wallMs),
        total: r.counts.total,
        byVerb: r.counts.byVerb,
        byVerbAndResource: r.counts.byVerbAndResource,
        responseBytes: r.counts.responseBytes,
      })),
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' } } });
  printFigure(await measureRequests(values.quick ?? false));
}
