// A StatefulSet that does not exist: create it, or, when a StatefulSet of that name was deleted
// with `--cascade=orphan` and its pods still run, roll out over them as an update (frozen,
// canary, stages, rollback), never by replacing them all at once.
import type { StagedSpec } from '../../engine/decide.ts';
import { imageChanges } from '../../engine/report.ts';
import { CHANGE_CAUSE, changeCause } from '../../engine/state.ts';
import type { Orphans } from '../../ports/cluster.ts';
import { finishRun, newProgress, type RunScope, type StatefulSetResult } from '../run.ts';
import { driveStages } from '../stages/driver.ts';
import { stageHooks } from '../stages/hooks.ts';
import { stageRollout } from '../stages/rollout.ts';
import { waitForRevision } from '../wait.ts';
import type { Manifest } from './objects.ts';
import { refOf, replicasOf, selectorOf, withPartition } from './objects.ts';
import { updateStatefulSet } from './update.ts';

export async function createStatefulSet(scope: RunScope, manifest: Manifest): Promise<StatefulSetResult> {
  const { deps, settings, run, signal } = scope;
  const ref = refOf(manifest.object);
  const orphans = await deps.cluster.orphans(ref, selectorOf(manifest.object));
  if (orphans.pods.length > 0) return adoptOrphans(scope, manifest, orphans);
  const replicas = replicasOf(manifest.object) ?? 1;
  const progress = newProgress(deps, run, ref, 'rollout', replicas);
  deps.log.info(
    `${ref.namespace}/${ref.name}: new StatefulSet; creating it (no canary stages: there is no previous revision)`,
  );
  const cause = { [CHANGE_CAUSE]: changeCause('rollout', run) };
  await deps.cluster.apply([withPartition(manifest.object, 0, cause)], { dryRun: false });
  const observed = await waitForRevision(deps, ref, undefined, signal);
  const target = observed.updateRevision;
  progress.revisions(undefined, target, imageChanges({}, observed.images), deps.clock.now());
  progress.plan([0], replicas, replicas, deps.clock.now(), observed.ordinalsStart);
  const spec: StagedSpec = {
    targetRevision: target,
    partitions: [0],
    gate: { soakMs: 0, maxRestarts: settings.maxRestarts },
    stageTimeoutMs: settings.stageTimeoutMs,
    unstick: 'none',
    replicas: observed.replicas,
  };
  const outcome = await driveStages(deps, ref, spec, 0, stageHooks(progress, 'rolling-out'), signal);
  const ending = { ref, revision: target, previous: undefined };
  // A creation has one stage and no pause hook: it never pauses.
  if (outcome.kind === 'complete' || outcome.kind === 'paused')
    return finishRun(deps, progress, { ...ending, result: 'created' });
  if (outcome.kind === 'cancelled')
    return finishRun(deps, progress, { ...ending, result: 'cancelled', message: 'cancelled while creating' });
  progress.failed(outcome.failure, deps.clock.now());
  const f = outcome.failure;
  return finishRun(deps, progress, {
    ...ending,
    result: 'failed',
    message: `new StatefulSet did not become Ready: ${f.pod} ${f.reason}: ${f.message}`,
  });
}

/**
 * Pods of a StatefulSet deleted with `--cascade=orphan` still run. Recreate the StatefulSet with
 * the template those pods run (their ControllerRevision, left behind too) and the partition
 * holding every pod, so the controller adopts them unchanged; then roll the manifests out
 * over them as any update. Without that revision the new template is written frozen and staged,
 * but a failure can only halt: there is no template to go back to.
 */
async function adoptOrphans(
  scope: RunScope,
  manifest: Manifest,
  orphans: Orphans,
): Promise<StatefulSetResult> {
  const { deps, run, signal } = scope;
  const ref = refOf(manifest.object);
  const running = mostCommon(orphans.pods.map((p) => p.revision));
  const revision = orphans.revisions.find((r) => r.name === running);
  const replicas = replicasOf(manifest.object) ?? orphans.pods.length;
  const pods = orphans.pods.map((p) => p.name).join(', ');
  deps.log.info(
    `${ref.namespace}/${ref.name}: the StatefulSet does not exist but its pods do (${pods}, revision ${running}), ` +
      'left by a delete with --cascade=orphan: rolling out over them as an update, starting frozen',
  );
  const cause = { [CHANGE_CAUSE]: changeCause('rollout', run) };
  if (revision?.template !== undefined) {
    const template = withoutPatchDirective(revision.template);
    await deps.cluster.apply([withPartition(manifest.object, replicas, {}, { template })], { dryRun: false });
    const adopted = await waitForRevision(deps, ref, undefined, signal);
    // The deleted StatefulSet ran every pod on one revision: its partition was, in effect, 0.
    return updateStatefulSet(scope, {
      manifest,
      sts: adopted,
      originalPartition: 0,
    });
  }
  deps.log.warning(
    `${ref.namespace}/${ref.name}: the ControllerRevision ${running} of the running pods is gone, so the template ` +
      'they run cannot be restored: the change is staged as usual, but a failed stage halts instead of rolling back',
  );
  await deps.cluster.apply([withPartition(manifest.object, replicas, cause)], { dryRun: false });
  const observed = await waitForRevision(deps, ref, undefined, signal);
  return stageRollout(scope, {
    ref,
    progress: newProgress(deps, run, ref, 'rollout', replicas),
    images: imageChanges({}, observed.images),
    target: observed.updateRevision,
    previous: undefined,
    originalPartition: 0,
    fromPartition: replicas,
    replicas,
    ordinalsStart: observed.ordinalsStart,
    maxUnavailable: observed.maxUnavailable,
  });
}

function mostCommon(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

/** A ControllerRevision's template carries `$patch: replace` (strategic-merge data); an apply must not. */
function withoutPatchDirective(template: unknown): unknown {
  if (template === null || typeof template !== 'object') return template;
  const { $patch: _directive, ...rest } = template as Record<string, unknown>;
  return rest;
}
