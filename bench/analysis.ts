// Figure 6, what analysis costs: the same rollout (10 replicas, steps 1, 50%, 100%, soak 1 s)
// without checks and with an HTTP check through the real API server's pod proxy (interval 1 s,
// count 3: the analysis, not the soak, ends each stage). Measured through the recording proxy:
// - requests: the pod proxy requests must be exactly count × pods per stage, and nothing else
//   may grow but one SelfSubjectAccessReview (the pods/proxy check before any change);
// - overhead: per stage, the time beyond the configured rounds: how late the last round was
//   sent against start + count × interval (drift), plus the time from that round to the next
//   partition write (tail), as a share of the stage's duration.
//   node bench/analysis.ts

import { rolloutScenario, type ScenarioOptions, type ScenarioResult } from './scenario.ts';
import { partitionWrites } from './stages.ts';
import { type Figure, load, printFigure, round, verdict } from './stats.ts';

const REPLICAS = 10;
const INTERVAL_MS = 1000;
const COUNT = 3;
const ANALYSIS = `
- name: healthz
  http: { port: http, path: /healthz }
  interval: ${INTERVAL_MS}ms
  count: ${COUNT}
`;

const base: ScenarioOptions = { who: 'action', replicas: REPLICAS, steps: '1, 50%, 100%', soakMs: 1000 };

const isProxied = (path: string) => /\/pods\/[^/]+\/proxy\//.test(path);

interface StageCost {
  readonly stage: number;
  readonly pods: number;
  readonly requests: number;
  readonly durationMs: number;
  readonly driftMs: number;
  readonly tailMs: number;
}

/** Per stage: its proxied requests (by the pods they went to) and the time around them. */
function stageCosts(r: ScenarioResult): StageCost[] {
  const writes = partitionWrites(r.requests, 'web');
  const proxied = r.requests.filter((q) => isProxied(q.path));
  const costs: StageCost[] = [];
  for (let i = 0; i < writes.length; i++) {
    const start = writes[i]?.at ?? 0;
    // The last stage ends with the run's closing write (the succeeded record), not a partition.
    const end =
      writes[i + 1]?.at ??
      r.requests.find(
        (q) => q.verb === 'patch' && q.resource === 'statefulsets' && q.at > (proxied.at(-1)?.at ?? start),
      )?.at ??
      0;
    const inStage = proxied.filter((q) => q.at >= start && q.at < end);
    if (inStage.length === 0) continue;
    const pods = new Set(inStage.map((q) => q.path.split('/')[6]?.split(':')[0])).size;
    const first = inStage[0]?.at ?? start;
    const last = inStage.at(-1)?.at ?? start;
    // Round 1 goes at analysis start + interval; the last round at start + count × interval.
    const analysisStart = first - INTERVAL_MS;
    costs.push({
      stage: costs.length + 1,
      pods,
      requests: inStage.length,
      durationMs: end - start,
      driftMs: Math.max(0, last - (analysisStart + COUNT * INTERVAL_MS)),
      tailMs: end - last,
    });
  }
  return costs;
}

export async function measureAnalysis(): Promise<Figure> {
  const loadBefore = load();
  const without = await rolloutScenario(base);
  const withChecks = await rolloutScenario({ ...base, analysis: ANALYSIS });
  const costs = stageCosts(withChecks);
  const proxiedTotal = withChecks.requests.filter((q) => isProxied(q.path)).length;
  const exact =
    costs.length === 3 &&
    costs.every((c) => c.requests === COUNT * c.pods) &&
    proxiedTotal === COUNT * REPLICAS;
  // Which requests differ, by verb and resource (the proxied GETs are `get pods/proxy`).
  const diff: Record<string, number> = {};
  const keys = new Set([
    ...Object.keys(withChecks.counts.byVerbAndResource),
    ...Object.keys(without.counts.byVerbAndResource),
  ]);
  for (const key of keys) {
    const n = (withChecks.counts.byVerbAndResource[key] ?? 0) - (without.counts.byVerbAndResource[key] ?? 0);
    if (n !== 0) diff[key] = n;
  }
  // Lease renewals and watch reconnects follow the run's length, not what it does.
  const timed = (key: string) => key === 'update leases' || key.startsWith('watch ');
  const extra =
    Object.entries(diff)
      .filter(([key]) => !timed(key))
      .reduce((sum, [, n]) => sum + n, 0) - proxiedTotal;
  const shares = costs.map((c) => (c.driftMs + c.tailMs) / c.durationMs);
  const worst = Math.max(...shares);
  const rows: [string, string, string, string][] = [
    [
      'pod proxy requests per stage (pods × count)',
      `${costs.map((c) => `${c.requests} (${c.pods} × ${COUNT})`).join(', ')}; total ${proxiedTotal}`,
      `exactly count × pods (${COUNT * REPLICAS} in all)`,
      verdict(exact),
    ],
    [
      'other requests added by analysis (lease renewals and watch reconnects aside)',
      `${extra}`,
      '1 (the pods/proxy access review)',
      verdict(extra === 1),
    ],
    ...costs.map((c): [string, string, string, string] => [
      `stage ${c.stage}: time beyond the ${COUNT} rounds (drift + tail) of the stage's ${round(c.durationMs / 1000, 2)} s`,
      `${round(c.driftMs, 1)} + ${round(c.tailMs, 1)} ms = ${round((100 * (c.driftMs + c.tailMs)) / c.durationMs, 2)}%`,
      '< 5%',
      verdict((c.driftMs + c.tailMs) / c.durationMs < 0.05),
    ]),
    [
      'run without analysis / with',
      `${round(without.wallMs / 1000, 1)} s / ${round(withChecks.wallMs / 1000, 1)} s`,
      '',
      '-',
    ],
  ];
  return {
    id: 'analysis',
    title: '6. Analysis: requests and overhead (HTTP check through the pod proxy, 10 replicas)',
    rows,
    loadBefore,
    loadAfter: load(),
    details: {
      costs,
      worstShare: worst,
      proxiedTotal,
      extra,
      diff,
      wallMs: [without.wallMs, withChecks.wallMs],
    },
  };
}

if (import.meta.main) printFigure(await measureAnalysis());
