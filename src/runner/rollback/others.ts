// `on-failure-others`: when one StatefulSet of a run fails, the others it names (the rest of the
// failed wave, and with `rollback` the waves before, newest first) go back to the revision
// they had. The order is the engine's (src/engine/waves.ts, afterFailure).
import type { RunScope, StatefulSetResult } from '../run.ts';
import { rollbackStatefulSet } from './by-hand.ts';

/** One StatefulSet this run moved, with the scope it ran in (its context's cluster and log). */
export interface Moved {
  readonly scope: RunScope;
  readonly result: StatefulSetResult;
}

/** Whether the run moved this StatefulSet to a new revision it can go back from. */
function canGoBack(result: StatefulSetResult): boolean {
  // cancelled: stopped by the failure of another one of its wave (not by the run's cancel).
  return ['succeeded', 'cancelled'].includes(result.result) && result.previousRevision !== undefined;
}

/** Rolls back each of `moved`, in the given order, to the revision it had. */
export async function rollbackOthers(moved: readonly Moved[]): Promise<StatefulSetResult[]> {
  const results: StatefulSetResult[] = [];
  for (const { scope, result: earlier } of moved) {
    if (!canGoBack(earlier)) continue;
    const { deps, settings } = scope;
    const { ref } = earlier;
    deps.log.info(
      `on-failure-others: ${settings.onFailureOthers}: rolling ${ref.namespace}/${ref.name} back to ${earlier.previousRevision}`,
    );
    const reason = `another StatefulSet of the same run failed (on-failure-others: ${settings.onFailureOthers})`;
    try {
      const back = await rollbackStatefulSet(
        { ...scope, settings: { ...settings, toRevision: undefined, reason } },
        ref,
        { revisionName: earlier.previousRevision },
      );
      results.push(earlier.context === undefined ? back : { ...back, context: earlier.context });
    } catch (error) {
      deps.log.warning(`Could not roll ${ref.namespace}/${ref.name} back: ${(error as Error).message}`);
    }
  }
  return results;
}
