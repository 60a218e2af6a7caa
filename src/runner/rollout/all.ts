// A rollout of all the manifests: the other objects first, then each StatefulSet in file
// order, stopping at the first that fails; with `on-failure-others: rollback`, the ones this
// run already rolled out go back to the revision they had.
import { describe } from '../../manifests/checks.ts';
import type { ManifestSet } from '../../manifests/load.ts';
import { resumeInterruptedRollback } from '../rollback/interrupted.ts';
import { rollbackOthers } from '../rollback/others.ts';
import type { RunScope, StatefulSetResult } from '../run.ts';
import type { Validated } from '../validate.ts';
import { createStatefulSet } from './create.ts';
import { rolloutSynced } from './gitops.ts';
import { type Manifest, refOf } from './objects.ts';
import { updateStatefulSet } from './update.ts';

const OK = ['succeeded', 'no-change', 'created'];

export async function rolloutAll(
  scope: RunScope,
  manifests: ManifestSet,
  validated: Validated,
): Promise<StatefulSetResult[]> {
  const { deps, settings } = scope;
  // apply: false leaves every object to the GitOps controller.
  if (settings.apply && validated.others.length > 0) {
    const names = validated.others.map((o) => describe(o.object)).join(', ');
    deps.log.info(`Applying ${validated.others.length} object(s): ${names}`);
    await deps.cluster.apply(
      validated.others.map((o) => o.object),
      { dryRun: false },
    );
  }
  // One after another: as a fleet, a wave of one StatefulSet each, in file order.
  deps.reporter.fleet?.({
    waves: manifests.statefulSets.map((s, index) => ({
      index,
      name: `wave ${index + 1}`,
      members: [{ context: scope.run.contextName, ...refOf(s.object) }],
    })),
  });
  const done: StatefulSetResult[] = [];
  for (const [index, item] of manifests.statefulSets.entries()) {
    const dryRun = validated.statefulSets[index] ?? item.object;
    const manifest = { object: item.object, dryRun };
    const result = settings.apply
      ? await rolloutStatefulSet(scope, manifest)
      : await rolloutSynced(scope, manifest);
    done.push(result);
    if (OK.includes(result.result)) continue;
    const untouched = manifests.statefulSets.slice(index + 1).map((s) => describe(s.object));
    if (untouched.length > 0)
      deps.log.warning(`Not rolled out, because ${describe(item.object)} failed: ${untouched.join(', ')}`);
    if (settings.onFailureOthers === 'rollback') done.push(...(await rollbackOthers(scope, done)));
    break;
  }
  return done;
}

/** Rolls a validated StatefulSet manifest out as a staged canary. */
async function rolloutStatefulSet(scope: RunScope, manifest: Manifest): Promise<StatefulSetResult> {
  const found = await scope.deps.cluster.observe(refOf(manifest.object));
  if (found === undefined) return createStatefulSet(scope, manifest);
  const { observation, finished } = await resumeInterruptedRollback(scope, found);
  return updateStatefulSet(scope, {
    manifest,
    sts: observation.statefulSet,
    pods: observation,
    finished,
  });
}
