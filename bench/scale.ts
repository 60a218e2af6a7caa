// Figure 5, scale: a 300-replica StatefulSet (podManagementPolicy Parallel, pods with
// terminationGracePeriodSeconds 0 so the kubelet stand-in replaces them quickly) rolled out with
// `1, 10%, 50%, 100%` by the bundled action under /usr/bin/time -v: wall time, the action's peak
// RSS, and the requests it sent.
//   node bench/scale.ts [--replicas 300] [--soak 5s] [--script other-build/index.js]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/duration.ts';
import { overheadOf } from './overhead.ts';
import { withoutRenewals } from './requests.ts';
import { rolloutScenario, type ScenarioResult } from './scenario.ts';
import { type Figure, load, ms, printFigure, round, verdict } from './stats.ts';

const steps = '1, 10%, 50%, 100%';

export interface ScaleOptions {
  readonly replicas: number;
  readonly soakMs: number;
  readonly steps: string;
  readonly script?: string;
  readonly nodeArgs?: readonly string[];
}

/** A rollout of many replicas (Parallel, grace 0) by the action under /usr/bin/time -v. */
export async function scaleRun(o: ScaleOptions): Promise<{ result: ScenarioResult; rssMiB: number }> {
  if (!existsSync('/usr/bin/time'))
    throw new Error('bench: scale needs /usr/bin/time (GNU time) for peak RSS');
  const result = await rolloutScenario({
    who: 'action',
    replicas: o.replicas,
    steps: o.steps,
    soakMs: o.soakMs,
    podManagementPolicy: 'Parallel',
    terminationGraceSeconds: 0,
    measureRss: true,
    timeoutMs: 1_200_000 + o.replicas * 2000,
    script: o.script,
    nodeArgs: o.nodeArgs,
  });
  return { result, rssMiB: (result.run?.maxRssKiB ?? Number.NaN) / 1024 };
}

export async function measureScale(replicas = 300, soakMs = 5000, script?: string): Promise<Figure> {
  const loadBefore = load();
  const { result: r, rssMiB } = await scaleRun({ replicas, soakMs, steps, script });
  const o = overheadOf(r);
  const counts = Object.entries(r.counts.byVerb)
    .map(([verb, n]) => `${verb} ${n}`)
    .join(', ');
  return {
    id: 'scale',
    title: `5. Scale (${replicas} replicas, Parallel, steps ${steps}, soak ${soakMs / 1000} s${script ? `, ${script}` : ''})`,
    rows: [
      ['peak RSS of the action', `${round(rssMiB, 1)} MiB`, '< 150 MB', verdict(rssMiB * 1.048576 < 150)],
      ['wall time (spawn -> exit)', ms(r.wallMs), '', '-'],
      ['least time (controller observe + stages + soaks)', ms(o.leastMs), '', '-'],
      [
        'start-up + prepare + decisions + finish',
        [o.startupMs, o.prepareMs, o.decisionsMs, o.finishMs].map(ms).join(' + '),
        '',
        '-',
      ],
      [
        'requests',
        `${r.counts.total} (${counts}); ${round(r.counts.responseBytes / 2 ** 20, 1)} MiB received`,
        'as for 10 replicas',
        '-',
      ],
      ['requests other than lease renewals', String(withoutRenewals(r)), '', '-'],
      ['setup: create + all Ready (not measured above)', ms(r.setupMs), '', '-'],
    ],
    loadBefore,
    loadAfter: load(),
    details: scaleDetails(r, o, replicas, steps),
  };
}

/** The details a scale-like figure keeps: its shape, the action's RSS, the overhead, the requests. */
export function scaleDetails(
  r: ScenarioResult,
  o: ReturnType<typeof overheadOf>,
  replicas: number,
  steps: string,
): Record<string, unknown> {
  return {
    replicas,
    steps,
    maxRssKiB: r.run?.maxRssKiB,
    ...o,
    byVerbAndResource: r.counts.byVerbAndResource,
    responseBytes: r.counts.responseBytes,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { replicas: { type: 'string' }, soak: { type: 'string' }, script: { type: 'string' } },
  });
  printFigure(
    await measureScale(
      values.replicas === undefined ? undefined : Number(values.replicas),
      values.soak === undefined ? undefined : parseDuration(values.soak),
      values.script,
    ),
  );
}
