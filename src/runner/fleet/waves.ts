// A fleet's waves, in order: the StatefulSets of a wave roll out in parallel (at most
// `max-parallel` at once), each with its own stages, gates, state and report; a wave starts when
// every member of the wave before it succeeded. A failure stops the waves after it, and
// `on-failure-others` says what happens to the rest of its wave and to the waves before
// (src/engine/waves.ts decides; this file acts).
import { afterFailure } from '../../engine/waves.ts';
import type { KubeObject } from '../../ports/cluster.ts';
import { type Moved, rollbackOthers } from '../rollback/others.ts';
import { rolloutManifest } from '../rollout/one.ts';
import type { RunScope, StatefulSetResult } from '../run.ts';
import { prefixedLog } from './log.ts';
import { applyOthers, type ValidatedTarget } from './targets.ts';

const OK = ['succeeded', 'no-change', 'created'];

/** One StatefulSet of the fleet in one context, ready to roll out. */
interface Member {
  readonly target: ValidatedTarget;
  readonly object: KubeObject;
  /** The manifest as the dry-run in its context defaulted it. */
  readonly dryRun: KubeObject;
}

export interface RunWave {
  readonly name: string;
  /** The cluster wave it belongs to (0-based): the soak and the other objects go between them. */
  readonly clusterWave: number;
  readonly members: readonly Member[];
}

/** Rolls the waves out in order; returns every StatefulSet's result, in the order they ended. */
export async function runWaves(
  scope: RunScope,
  waves: readonly RunWave[],
  severalContexts: boolean,
): Promise<StatefulSetResult[]> {
  const { deps, settings } = scope;
  const done: StatefulSetResult[] = [];
  const moved: Moved[][] = [];
  for (const [w, wave] of waves.entries()) {
    if (w === 0 || waves[w - 1]?.clusterWave !== wave.clusterWave) {
      if (w > 0 && settings.clusterSoakMs > 0) {
        deps.log.info(`cluster-soak: waiting ${settings.clusterSoakMs / 1000} s before ${wave.name}`);
        await deps.clock.sleep(settings.clusterSoakMs, scope.signal);
        if (scope.signal.aborted) return done;
      }
      const contexts = new Set(
        waves
          .filter((x) => x.clusterWave === wave.clusterWave)
          .flatMap((x) => x.members.map((m) => m.target)),
      );
      for (const target of contexts)
        await applyOthers(scope, target, severalContexts ? `[${target.contextName}] ` : '');
    }
    const parallel = wave.members.length > 1;
    if (parallel || (waves.length > 1 && settings.waves.length > 0))
      deps.log.info(
        `Wave ${w + 1} of ${waves.length} (${wave.name}): ${wave.members.length} StatefulSet(s), at most ${settings.maxParallel} at once`,
      );
    const ran = await runWave(scope, wave, { parallel, severalContexts, number: w + 1 });
    done.push(...ran.results.map((r) => r.result));
    moved.push(ran.results.map((r) => ({ scope: r.scope, result: r.result })));
    if (ran.error !== undefined) throw ran.error;
    const failed =
      ran.results.find((r) => isFailure(r.result)) ?? ran.results.find((r) => r.result.result === 'paused');
    if (failed === undefined) continue;
    const untouched = waves.slice(w + 1).flatMap((x) => x.members.map((m) => nameOf(m, severalContexts)));
    const waiting = wave.members
      .filter((m) => !ran.results.some((r) => r.member === m))
      .map((m) => nameOf(m, severalContexts));
    if (failed.result.result === 'paused') {
      // A pause is no failure: nothing rolls back; the waves after start once a rerun finds it promoted.
      const after = untouched.length > 0 ? `: ${untouched.join(', ')}` : '';
      deps.log.info(`Wave ${w + 1} (${wave.name}) paused; after promote, a rerun rolls out the rest${after}`);
      break;
    }
    if (untouched.length + waiting.length > 0)
      deps.log.warning(
        `Not rolled out, because ${nameOfResult(failed.result, severalContexts)} failed: ${[...waiting, ...untouched].join(', ')}`,
      );
    // A cancel leaves every StatefulSet where it stopped, for a rerun to resume.
    if (scope.signal.aborted) break;
    const plan = afterFailure(
      settings.onFailureOthers,
      w,
      moved.map((m) => m.map((_, i) => i)),
    );
    const order = plan.rollBack.flatMap(([wi, mi]) => {
      const m = moved[wi]?.[mi];
      return m === undefined || m.result === failed.result ? [] : [m];
    });
    done.push(...(await rollbackOthers(order)));
    break;
  }
  return done;
}

/** Not succeeded and not paused (pause-after): what on-failure-others is about. */
function isFailure(r: StatefulSetResult): boolean {
  return !OK.includes(r.result) && r.result !== 'paused';
}

interface Ran {
  readonly member: Member;
  /** The scope it ran in, with the run's own signal (for a rollback after it). */
  readonly scope: RunScope;
  readonly result: StatefulSetResult;
}

/** The members of one wave, at most max-parallel at once; the first failure stops the waiting ones. */
async function runWave(
  scope: RunScope,
  wave: RunWave,
  how: {
    readonly parallel: boolean;
    readonly severalContexts: boolean;
    /** The wave's place in the run (1-based), as the fleet view and the outputs number it. */
    readonly number: number;
  },
): Promise<{ results: Ran[]; error: unknown }> {
  const { settings } = scope;
  const stop = new AbortController();
  const queue = [...wave.members];
  const results: Ran[] = [];
  let failed = false;
  let error: unknown;
  const stopIfAsked = () => {
    if (!failed) {
      failed = true;
      if (afterFailure(settings.onFailureOthers, 0, []).stopInFlight) stop.abort();
    }
  };
  const worker = async () => {
    for (let m = queue.shift(); m !== undefined && !failed && !scope.signal.aborted; m = queue.shift()) {
      const memberScope = scopeOf(scope, m, how);
      try {
        const result = await rolloutManifest(
          { ...memberScope, signal: AbortSignal.any([scope.signal, stop.signal]) },
          {
            object: m.object,
            dryRun: m.dryRun,
          },
        );
        const placed = {
          ...result,
          wave: how.number,
          ...(how.severalContexts ? { context: m.target.contextName } : {}),
        };
        results.push({ member: m, scope: memberScope, result: placed });
        if (isFailure(result)) stopIfAsked();
      } catch (thrown) {
        // A StatefulSet that cannot start (refused, unreachable) ends the run, after the rest of its wave.
        error ??= thrown;
        stopIfAsked();
      }
    }
  };
  const slots = Math.max(1, Math.min(settings.maxParallel, wave.members.length));
  await Promise.all(Array.from({ length: slots }, worker));
  return { results, error };
}

/** A member's scope: its context's cluster, its own log prefix when it runs beside others. */
function scopeOf(
  scope: RunScope,
  m: Member,
  how: { readonly parallel: boolean; readonly severalContexts: boolean },
): RunScope {
  const log =
    how.parallel || how.severalContexts
      ? prefixedLog(scope.deps.log, nameOf(m, how.severalContexts))
      : scope.deps.log;
  return {
    ...scope,
    deps: { ...scope.deps, cluster: m.target.cluster, log },
    run: { ...scope.run, contextName: m.target.contextName },
  };
}

function nameOf(m: Member, withContext: boolean): string {
  const { namespace = '', name } = m.object.metadata;
  return `${withContext ? `${m.target.contextName}/` : ''}${namespace}/${name}`;
}

function nameOfResult(r: StatefulSetResult, withContext: boolean): string {
  return `${withContext && r.context !== undefined ? `${r.context}/` : ''}${r.ref.namespace}/${r.ref.name}`;
}
