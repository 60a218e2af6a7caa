// `apply: false`: a GitOps controller (Argo CD, Flux) applies the manifests; this action reads
// them to know which template to expect, waits until the StatefulSet carries it, gates and
// reports each stage, and parks the partition above every pod at the end, so the controller's
// next sync creates a new revision and restarts no pod. It never writes the template.
import { isDeepStrictEqual } from 'node:util';
import type { Observation, StatefulSetObservation } from '../../engine/observation.ts';
import { imageChanges } from '../../engine/report.ts';
import { decideStart } from '../../engine/resume.ts';
import { decodeState } from '../../engine/state.ts';
import { INT32_MAX } from '../../manifests/checks.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { finishRun, newProgress, type RunDeps, type RunScope, type StatefulSetResult } from '../run.ts';
import type { Progress } from '../stages/progress.ts';
import { stageRollout } from '../stages/rollout.ts';
import { ValidationError } from '../validate.ts';
import { watchUntil } from '../wait.ts';
import type { Manifest } from './objects.ts';
import { refOf, templateImages, templateOf } from './objects.ts';

/**
 * Where the partition is parked: above any pod index, so a scale-up while a new revision waits
 * creates its pods from currentRevision too (a partition of `replicas` would let them start on
 * the new, ungated template).
 */
export const PARKED = INT32_MAX;

const FIXES: readonly [RegExp, string][] = [
  [
    /argocd/i,
    'Argo CD applies it from Git. In the Application, add ignoreDifferences for group apps, kind StatefulSet ' +
      'with managedFieldsManagers [statefulset-canary] and the sync option RespectIgnoreDifferences=true, and take ' +
      'updateStrategy.rollingUpdate.partition out of the manifests in Git',
  ],
  [
    /kustomize-controller|flux/i,
    "Flux applies it from Git. Take updateStrategy.rollingUpdate.partition out of the manifests in Git: Flux's " +
      'server-side apply then leaves the field to statefulset-canary',
  ],
  [
    /helm/i,
    'Helm renders it. Take updateStrategy.rollingUpdate.partition out of the chart templates and values',
  ],
];

/** Refuses, saying what to change, when another field manager owns the partition. */
export function checkPartitionOwners(sts: StatefulSetObservation, fieldManager: string): void {
  const others = (sts.partitionOwners ?? []).filter((m) => m !== fieldManager);
  if (others.length === 0) return;
  const fixes = others.map((m) => FIXES.find(([re]) => re.test(m))?.[1] ?? `Stop ${m} from setting it`);
  throw new ValidationError(
    `StatefulSet ${sts.namespace}/${sts.name}: spec.updateStrategy.rollingUpdate.partition is owned by ` +
      `${others.join(', ')}, which would reset it on every sync and update pods no stage gated. ` +
      `${[...new Set(fixes)].join('. ')}. Then run again. Nothing was changed in the cluster.`,
  );
}

export async function rolloutSynced(scope: RunScope, manifest: Manifest): Promise<StatefulSetResult> {
  const { deps, settings, run } = scope;
  const ref = refOf(manifest.object);
  const expected = templateOf(manifest.dryRun);
  const before = await waitForStatefulSet(scope, ref);
  checkPartitionOwners(before.statefulSet, settings.fieldManager);
  if (
    before.statefulSet.partition < PARKED &&
    before.statefulSet.currentRevision === before.statefulSet.updateRevision
  ) {
    deps.log.info(`${ref.namespace}/${ref.name}: parking the partition at ${PARKED} before the sync arrives`);
    await deps.cluster.patchStatefulSet(ref, { partition: PARKED });
  }
  const synced = await waitForTemplate(scope, ref, expected);
  const sts = synced.statefulSet;
  const progress = newProgress(deps, run, ref, 'rollout', sts.replicas);
  const recorded = decodeState(sts.annotations);
  const ending = { ref, revision: sts.updateRevision, previous: sts.currentRevision };
  const start = decideStart({ kind: 'rollout', sts, recorded, targetIsLive: true, replicas: sts.replicas });
  if (start.kind === 'no-change' || start.kind === 'refuse' || start.kind === 'fresh') {
    return alreadyRolled(deps, progress, synced);
  }
  if (recorded?.targetRevision === sts.updateRevision && recorded.phase === 'rolled-back') {
    const message =
      `revision ${sts.updateRevision} failed its canary and its pods were replaced; Git still holds it. ` +
      'Revert the change in Git (the merged pull request): the next sync then brings the previous template back.';
    deps.log.warning(`${ref.namespace}/${ref.name}: ${message}`);
    return finishRun(deps, progress, { ...ending, result: 'halted', message });
  }
  return stageRollout(scope, {
    ref,
    progress,
    images: imageChanges(templateImages(undefined), sts.images),
    target: start.target,
    previous: start.previous,
    originalPartition: PARKED,
    fromPartition: start.fromPartition,
    replicas: sts.replicas,
    ordinalsStart: sts.ordinalsStart,
    maxUnavailable: sts.maxUnavailable,
    parkAt: PARKED,
  });
}

/** Every pod runs the synced template already: gated by an earlier run, or not gated at all. */
async function alreadyRolled(
  deps: RunDeps,
  progress: Progress,
  synced: Observation,
): Promise<StatefulSetResult> {
  const sts = synced.statefulSet;
  const ref = { namespace: sts.namespace, name: sts.name };
  const recorded = decodeState(sts.annotations);
  const ending = { ref, revision: sts.updateRevision, previous: sts.currentRevision };
  // Gated by an earlier run, or the revert (in Git) of a change an earlier run rolled back.
  const reverted = recorded?.phase === 'rolled-back' && recorded.previousRevision === sts.updateRevision;
  const gated = recorded?.targetRevision === sts.updateRevision || reverted;
  progress.revisions(sts.currentRevision, sts.updateRevision, [], deps.clock.now(), !gated);
  if (!gated) {
    const message =
      `not gated: the controller rolled every pod to ${sts.updateRevision} before the partition was parked. ` +
      'Run `command: park` once (or this rollout before the next sync) so later syncs are gated.';
    deps.log.warning(`${ref.namespace}/${ref.name}: ${message}`);
    await deps.cluster.patchStatefulSet(ref, { partition: PARKED });
    return finishRun(deps, progress, { ...ending, result: 'not-gated', message });
  }
  deps.log.info(
    `${ref.namespace}/${ref.name}: revision ${sts.updateRevision} is rolled out already; nothing to do`,
  );
  return finishRun(deps, progress, { ...ending, result: 'no-change' });
}

/** The StatefulSet, once the GitOps controller has created it (polled: nothing to watch before). */
async function waitForStatefulSet(scope: RunScope, ref: StatefulSetRef): Promise<Observation> {
  const { deps, settings, signal } = scope;
  const deadline = deps.clock.now() + settings.syncTimeoutMs;
  for (;;) {
    const observation = await deps.cluster.observe(ref);
    if (observation) return observation;
    if (signal.aborted || deps.clock.now() >= deadline) {
      throw new Error(
        `StatefulSet ${ref.namespace}/${ref.name} did not appear within sync-timeout ` +
          `(${settings.syncTimeoutMs / 1000} s): check that the GitOps controller synced the merged commit`,
      );
    }
    await deps.clock.sleep(2_000, signal);
  }
}

/** Waits (by watch) until the StatefulSet's updateRevision carries the manifests' template. */
async function waitForTemplate(
  scope: RunScope,
  ref: StatefulSetRef,
  expected: unknown,
): Promise<Observation> {
  const { deps, settings, signal } = scope;
  deps.log.info(
    `${ref.namespace}/${ref.name}: waiting up to ${settings.syncTimeoutMs / 1000} s for the sync`,
  );
  const synced = (o: Observation) =>
    o.statefulSet.observedGeneration >= o.statefulSet.generation &&
    isDeepStrictEqual(o.statefulSet.template, expected);
  const { found, latest } = await watchUntil(deps, ref, synced, signal, settings.syncTimeoutMs);
  if (found) return found;
  if (signal.aborted)
    throw new Error(`cancelled while waiting for ${ref.namespace}/${ref.name} to be synced`);
  const live = latest?.statefulSet;
  const images = (i: Readonly<Record<string, string>>) =>
    Object.entries(i)
      .map(([c, image]) => `${c}=${image}`)
      .join(', ');
  throw new Error(
    `StatefulSet ${ref.namespace}/${ref.name} did not get the manifests' template within sync-timeout ` +
      `(${settings.syncTimeoutMs / 1000} s): it runs updateRevision ${live?.updateRevision ?? '?'} with ` +
      `${images(live?.images ?? {})}, expected ${images(templateImages(expected))}. Check that the GitOps ` +
      'controller synced the merged commit (and that the manifests are the ones it applies).',
  );
}
