// `on-failure-others: rollback`: when one StatefulSet of a run fails, the ones this run
// already rolled out go back, newest first, to the revision they had.
import type { RunScope, StatefulSetResult } from '../run.ts';
import { rollbackStatefulSet } from './by-hand.ts';

/** Rolls back, newest first, each StatefulSet this run moved to a new revision. */
export async function rollbackOthers(
  scope: RunScope,
  done: readonly StatefulSetResult[],
): Promise<StatefulSetResult[]> {
  const { deps, settings } = scope;
  const results: StatefulSetResult[] = [];
  for (const earlier of [...done].reverse()) {
    if (earlier.result !== 'succeeded' || earlier.previousRevision === undefined) continue;
    const { ref } = earlier;
    deps.log.info(
      `on-failure-others: rollback: rolling ${ref.namespace}/${ref.name} back to ${earlier.previousRevision}`,
    );
    const reason = `another StatefulSet of the same run failed (on-failure-others: rollback)`;
    try {
      results.push(
        await rollbackStatefulSet(
          { ...scope, settings: { ...settings, toRevision: undefined, reason } },
          ref,
          {
            revisionName: earlier.previousRevision,
          },
        ),
      );
    } catch (error) {
      deps.log.warning(`Could not roll ${ref.namespace}/${ref.name} back: ${(error as Error).message}`);
    }
  }
  return results;
}
