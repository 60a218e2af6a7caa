// Figure 9, the single-StatefulSet frontier (issue 25, item 5): figure 5's rollout at 1000
// replicas on the kubelet stand-in (podManagementPolicy Parallel, terminationGracePeriodSeconds
// 0), steps `1, 10%, 25%, 50%, 75%, 100%` (5 decisions a run), soak 5 s, the bundled action under
// /usr/bin/time -v. Goals: peak RSS of the action <= 150 MB, wall / least (figure 2's definition)
// <= 1.01, stage-decision latency (figure 1's definition) under 15 ms median.
//   node bench/frontier.ts [--replicas 1000] [--soak 5s] [--script other-build.js]
//     [--node-args="--cpu-prof --cpu-prof-dir=DIR"] [--log FILE (the action's stdout)]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/duration.ts';
import { overheadOf } from './overhead.ts';
import { scaleDetails, scaleRun } from './scale.ts';
import { latencies } from './stages.ts';
import { type Figure, load, median, ms, printFigure, round, verdict } from './stats.ts';

const steps = '1, 10%, 25%, 50%, 75%, 100%';

export interface FrontierOptions {
  readonly replicas?: number;
  readonly soakMs?: number;
  readonly script?: string;
  /** Node flags for the action, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
  readonly nodeArgs?: readonly string[];
  /** A file to keep the action's stdout in (its log, and what --trace-gc prints). */
  readonly log?: string;
}

export async function measureFrontier(options: FrontierOptions = {}): Promise<Figure> {
  const replicas = options.replicas ?? 1000;
  const soakMs = options.soakMs ?? 5000;
  const loadBefore = load();
  const { result: r, rssMiB } = await scaleRun({ ...options, replicas, soakMs, steps });
  if (options.log) writeFileSync(options.log, r.run?.stdout ?? '');
  const o = overheadOf(r);
  const decisions = latencies(r.stages);
  const rssMB = rssMiB * 1.048576;
  return {
    id: 'frontier',
    title: `9. Frontier (${replicas} replicas, Parallel, steps ${steps}, soak ${soakMs / 1000} s${options.script ? `, ${options.script}` : ''})`,
    rows: [
      [
        'peak RSS of the action',
        `${round(rssMiB, 1)} MiB = ${round(rssMB, 1)} MB`,
        '<= 150 MB',
        verdict(rssMB <= 150),
      ],
      ['ratio wall / least', String(round(o.ratio, 4)), '<= 1.01', verdict(o.ratio <= 1.01)],
      [
        `stage-decision latency, median (n=${decisions.length})`,
        ms(median(decisions)),
        '< 15 ms',
        verdict(median(decisions) < 15),
      ],
      ['stage-decision latencies', decisions.map((v) => ms(v)).join(', '), '', '-'],
      ['wall / least', `${ms(o.wallMs)} / ${ms(o.leastMs)}`, '', '-'],
      [
        'start-up + prepare + decisions + finish',
        [o.startupMs, o.prepareMs, o.decisionsMs, o.finishMs].map(ms).join(' + '),
        '',
        '-',
      ],
      ['controller per stage (in least)', o.controllerMsPerStage.map((v) => ms(v)).join(', '), '', '-'],
      ['requests', `${r.counts.total}; ${round(r.counts.responseBytes / 2 ** 20, 1)} MiB received`, '', '-'],
      ['setup: create + all Ready (not measured above)', ms(r.setupMs), '', '-'],
    ],
    loadBefore,
    loadAfter: load(),
    // Without the timeline (a line per request the action sent), as figure 9 has always printed.
    details: { ...scaleDetails(r, o, replicas, steps), timeline: undefined },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string' },
      soak: { type: 'string' },
      script: { type: 'string' },
      'node-args': { type: 'string' },
      log: { type: 'string' },
    },
  });
  printFigure(
    await measureFrontier({
      replicas: values.replicas === undefined ? undefined : Number(values.replicas),
      soakMs: values.soak === undefined ? undefined : parseDuration(values.soak),
      script: values.script,
      nodeArgs: values['node-args']?.split(' ').filter((a) => a !== ''),
      log: values.log,
    }),
  );
}
