// The rollout of one StatefulSet of the manifests (validated): created, updated as a staged
// canary (resuming what an earlier run left), or, with apply: false, gated as GitOps syncs it.
import { resumeInterruptedRollback } from '../rollback/interrupted.ts';
import type { RunScope, StatefulSetResult } from '../run.ts';
import { createStatefulSet } from './create.ts';
import { rolloutSynced } from './gitops.ts';
import { type Manifest, refOf } from './objects.ts';
import { updateStatefulSet } from './update.ts';

/** Rolls one validated StatefulSet manifest out: applied here as a staged canary, or synced by GitOps. */
export async function rolloutManifest(scope: RunScope, manifest: Manifest): Promise<StatefulSetResult> {
  if (!scope.settings.apply) return rolloutSynced(scope, manifest);
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
