// Figure 2, overhead ratio: the whole rollout's wall time (the bundled action's process, spawn to
// exit) divided by the least time the controller and the soaks need on their own:
//   least = observe + sum over stages of [(last pod of the stage seen Ready - the stage's partition write) + soak]
// where observe is the controller's time to observe the new template (from the freeze apply to
// the StatefulSet event with observedGeneration >= generation and the new updateRevision), and
// the stage term is the controller's and kubelet's time to replace the stage's pods. Both are
// measured, not assumed. The rest of the wall time is split into start-up (spawn -> first
// request), preparation (first request -> first stage's partition write, observe excluded:
// dry-run, lock, freeze, state annotations), decisions (gate open -> next partition write,
// summed) and finish (last gate open -> exit).
//   node bench/overhead.ts [--soak 5s,30s]
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/duration.ts';
import { controllerObserveMs, rolloutScenario, type ScenarioResult } from './scenario.ts';
import { latencies } from './stages.ts';
import { type Figure, load, ms, printFigure, round, verdict } from './stats.ts';

export interface OverheadRun {
  readonly soakMs: number;
  readonly wallMs: number;
  readonly leastMs: number;
  readonly ratio: number;
  readonly startupMs: number;
  /** The controller's time to observe the new template (freeze apply -> observedGeneration event). */
  readonly observeMs: number;
  /** First request -> first stage's partition write, the controller's observeMs excluded. */
  readonly prepareMs: number;
  readonly decisionsMs: number;
  readonly finishMs: number;
  readonly controllerMsPerStage: number[];
  readonly latenciesMs: number[];
  /** Every request the action sent, relative to its spawn. */
  readonly timeline: string[];
}

const steps = '1, 25%, 50%, 100%';

/** Splits a rollout's wall time into the least time and the action's own parts. */
export function overheadOf(result: ScenarioResult): OverheadRun {
  const { run, stages, requests, wallMs } = result;
  const soakMs = result.options.soakMs;
  const observeMs = controllerObserveMs(result, result.revision);
  const first = stages[0];
  const last = stages[stages.length - 1];
  const firstRequest = requests[0];
  if (!run || !first || !last || !firstRequest || observeMs === undefined)
    throw new Error('bench: the rollout recorded no stages or no new revision');
  const leastMs = stages.reduce((sum, s) => sum + s.controllerMs + soakMs, observeMs);
  return {
    soakMs,
    wallMs,
    leastMs,
    ratio: wallMs / leastMs,
    startupMs: firstRequest.at - run.spawnedAt,
    observeMs,
    prepareMs: first.writtenAt - firstRequest.at - observeMs,
    decisionsMs: latencies(stages).reduce((a, b) => a + b, 0),
    finishMs: run.exitedAt - last.gateAt,
    controllerMsPerStage: stages.map((s) => Math.round(s.controllerMs)),
    latenciesMs: latencies(stages).map((v) => Math.round(v)),
    timeline: requests.map(
      (r) => `${Math.round(r.at - run.spawnedAt)} ms ${r.verb} ${r.resource} ${r.name ?? ''} ${r.status}`,
    ),
  };
}

async function overheadRun(soakMs: number, replicas: number): Promise<OverheadRun> {
  return overheadOf(await rolloutScenario({ who: 'action', replicas, steps, soakMs }));
}

export async function measureOverhead(soaksMs: readonly number[] = [5000, 30_000]): Promise<Figure> {
  const loadBefore = load();
  const replicas = 10;
  const runs: OverheadRun[] = [];
  for (const soak of soaksMs) runs.push(await overheadRun(soak, replicas));
  const rows: [string, string, string, string][] = [];
  for (const r of runs) {
    const s = `soak ${r.soakMs / 1000} s`;
    rows.push(
      [`${s}: ratio wall / least`, String(round(r.ratio, 3)), '< 1.05', verdict(r.ratio < 1.05)],
      [`${s}: wall / least`, `${ms(r.wallMs)} / ${ms(r.leastMs)}`, '', '-'],
      [`${s}: controller observing the template (in least)`, ms(r.observeMs), '', '-'],
      [
        `${s}: start-up + prepare + decisions + finish`,
        [r.startupMs, r.prepareMs, r.decisionsMs, r.finishMs].map(ms).join(' + '),
        '',
        '-',
      ],
    );
  }
  return {
    id: 'overhead',
    title: `2. Overhead ratio (${replicas} replicas, steps ${steps})`,
    rows,
    loadBefore,
    loadAfter: load(),
    details: { replicas, steps, runs },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { soak: { type: 'string' } } });
  const soaks = (values.soak ?? '5s,30s').split(',').map((s) => parseDuration(s.trim()));
  printFigure(await measureOverhead(soaks));
}
