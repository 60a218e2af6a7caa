// `command: plan`: what a rollout of the manifests would do, computed with the same validation
// as the rollout (so a rollout refuses nothing the plan accepted), against the live objects.

import { isDeepStrictEqual } from 'node:util';
import { createTwoFilesPatch } from 'diff';
import { dump } from 'js-yaml';
import type { Settings } from '../../config/settings.ts';
import { describeCheck } from '../../engine/analysis.ts';
import { describeHook } from '../../engine/hooks.ts';
import type { Observation } from '../../engine/observation.ts';
import { maxUnavailablePods, ordinalsOfStage, planPartitions, unavailableText } from '../../engine/plan.ts';
import { shownTemplates } from '../../engine/plan-redact.ts';
import {
  managersOf,
  normalized,
  type OtherObjectPlan,
  type PlanReport,
  type PlanWarning,
  type PlanWave,
  type StatefulSetPlan,
  specChanges,
} from '../../engine/plan-report.ts';
import { imageChanges } from '../../engine/report.ts';
import { blocksController, unhealthyBelow } from '../../engine/start-health.ts';
import { decodeState } from '../../engine/state.ts';
import { describe } from '../../manifests/checks.ts';
import type { ManifestSet } from '../../manifests/load.ts';
import type { Cluster, KubeObject } from '../../ports/cluster.ts';
import type { Log } from '../../ports/log.ts';
import { planOrder } from '../fleet/plan.ts';
import { maxUnavailableOf, refOf, replicasOf, templateImages, templateOf } from '../rollout/objects.ts';
import { ValidationError, validate } from '../validate.ts';
import { primaryPlan } from './plan-primary.ts';

export interface PlanDeps {
  readonly cluster: Cluster;
  readonly log: Log;
}

export async function buildPlan(
  deps: PlanDeps,
  settings: Settings,
  manifests: ManifestSet,
  context: string,
): Promise<PlanReport> {
  const targets = manifests.statefulSets.map(({ object }) => {
    const ref = refOf(object);
    return `${ref.namespace}/${ref.name}`;
  });
  let validated: Awaited<ReturnType<typeof validate>>;
  let order: PlanWave[] | undefined;
  try {
    order = planOrder(settings, manifests, context);
    validated = await validate(deps.cluster, deps.log, manifests, {
      asNew: !settings.apply,
      analysis: settings.analysis,
      gates: settings,
    });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { context, refusal: error.message, targets, statefulSets: [], others: [] };
  }
  const others: OtherObjectPlan[] = [];
  for (const item of validated.others) {
    const live = await deps.cluster.read(item.object);
    const [dryRun] = live === undefined ? [] : await deps.cluster.apply([item.object], { dryRun: true });
    const same = live !== undefined && isDeepStrictEqual(normalized(live), normalized(dryRun));
    others.push({
      object: describe(item.object),
      change: live === undefined ? 'created' : same ? 'unchanged' : 'changed',
    });
  }
  const statefulSets: StatefulSetPlan[] = [];
  for (const [index, item] of manifests.statefulSets.entries()) {
    const dryRun = validated.statefulSets[index] ?? item.object;
    statefulSets.push(await planStatefulSet(deps, settings, item.object, dryRun));
  }
  return { context, refusal: undefined, targets, statefulSets, others, ...(order ? { order } : {}) };
}

async function planStatefulSet(
  deps: PlanDeps,
  settings: Settings,
  object: KubeObject,
  dryRun: KubeObject,
): Promise<StatefulSetPlan> {
  const ref = refOf(object);
  const live = await deps.cluster.read(object);
  const observation = live === undefined ? undefined : await deps.cluster.observe(ref);
  const replicas = replicasOf(object) ?? observation?.statefulSet.replicas ?? 1;
  // As the API server keeps it (the dry-run's): dropped while the MaxUnavailableStatefulSet feature is off.
  const kept = maxUnavailableOf(dryRun);
  const maxUnavailable = maxUnavailablePods(kept, replicas) > 1 ? unavailableText(kept, replicas) : undefined;
  const base = {
    namespace: ref.namespace,
    name: ref.name,
    replicas,
    soakMs: settings.soakMs,
    analysis: settings.analysis.map((c) => describeCheck(c, settings.soakMs)),
    ...(settings.hooks.length ? { hooks: settings.hooks.map(describeHook) } : {}),
    pauseAfter: settings.pauseAfter,
    maxUnavailable,
  };
  // Unless plan-show-values: env values hidden, admission's additions summarised (issue 26).
  const shown = shownTemplates(
    settings.planShowValues,
    observation?.statefulSet.template,
    templateOf(object),
    templateOf(dryRun),
  );
  const nextImages = templateImages(shown.next);
  if (live === undefined || observation === undefined) {
    return {
      ...base,
      kind: 'new',
      images: imageChanges({}, nextImages),
      templateDiff: '',
      specChanges: [],
      stages: [],
      warnings: [
        {
          what: `StatefulSet ${ref.namespace}/${ref.name} does not exist yet: it is created with ${replicas} replicas, with no canary stages`,
          fix: 'nothing to compare it with; the next change to it is staged',
        },
        ...specWarnings(object, settings, undefined, kept),
      ],
    };
  }
  const sts = observation.statefulSet;
  const same = isDeepStrictEqual(sts.template, templateOf(dryRun));
  const partitions = same ? [] : planPartitions(settings.steps, replicas);
  return {
    ...base,
    ...primaryPlan(settings, observation, partitions),
    kind: same ? 'no-change' : 'change',
    images: imageChanges(sts.images, nextImages),
    templateDiff: same ? '' : templateDiff(shown.live, shown.next),
    specChanges: specChanges(live, dryRun),
    stages: partitions.map((partition, i) => ({
      stage: i + 1,
      partition,
      ordinals: ordinalsOfStage(partitions[i - 1] ?? replicas, partition, sts.ordinalsStart),
    })),
    warnings: [...specWarnings(object, settings, observation, kept), ...ownerWarnings(live, settings)],
  };
}

/** A unified diff of two pod templates as YAML (keys sorted, so only real changes show). */
function templateDiff(live: unknown, next: unknown): string {
  const yaml = (t: unknown) => dump(t ?? {}, { sortKeys: true, lineWidth: 120, noRefs: true });
  return createTwoFilesPatch('live', 'manifests', yaml(live), yaml(next), undefined, undefined, {
    context: 3,
  })
    .split('\n')
    .slice(1) // the "===" rule; the --- and +++ lines stay
    .join('\n')
    .trimEnd();
}

function specWarnings(
  object: KubeObject,
  settings: Settings,
  observation: Observation | undefined,
  /** maxUnavailable as the API server keeps it (the dry-run's). */
  kept: number | string | undefined,
): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  const spec = (object.spec ?? {}) as {
    replicas?: number;
    updateStrategy?: { rollingUpdate?: { maxUnavailable?: unknown } };
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
  };
  const live = observation?.statefulSet;
  if (live && spec.replicas !== undefined && spec.replicas !== live.replicas) {
    warnings.push({
      what: `replicas change from ${live.replicas} to ${spec.replicas} with the apply`,
      fix: 'new pods start on the current revision and join the canary stages; scale in a separate change to keep them apart',
    });
  }
  const max = spec.updateStrategy?.rollingUpdate?.maxUnavailable;
  const replicas = spec.replicas ?? live?.replicas ?? 1;
  if (max !== undefined && max !== 1 && kept === undefined) {
    warnings.push({
      what: `maxUnavailable ${String(max)} is dropped by the API server: the MaxUnavailableStatefulSet feature is off on this cluster, so the controller replaces one pod at a time`,
      fix: 'leave maxUnavailable out, or turn the feature gate on (kube-apiserver and kube-controller-manager)',
    });
  } else if (maxUnavailablePods(kept, replicas) > 1) {
    warnings.push({
      what: `${unavailableText(kept, replicas)}: the controller replaces up to that many pods of a stage at once (MaxUnavailableStatefulSet)`,
      fix: 'set maxUnavailable to 1 (or leave it out) to replace one pod at a time',
    });
  }
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (retention?.whenDeleted === 'Delete' || retention?.whenScaled === 'Delete') {
    warnings.push({
      what: `persistentVolumeClaimRetentionPolicy deletes volumes (whenDeleted ${retention.whenDeleted ?? 'Retain'}, whenScaled ${retention.whenScaled ?? 'Retain'})`,
      fix: 'use Retain for data you cannot lose: a scale-down or a delete then keeps the PersistentVolumeClaims',
    });
  }
  warnings.push(...unfinishedRunWarnings(live));
  warnings.push(...unhealthyStartWarnings(settings, observation, replicas));
  if (settings.onFailure === 'halt') {
    warnings.push({
      what: 'on-failure is halt',
      fix: 'a failed stage leaves its pods on the new revision for a person to act',
    });
  }
  return warnings;
}

/** A run recorded on the StatefulSet that has not finished: a new change would supersede it. */
function unfinishedRunWarnings(live: Observation['statefulSet'] | undefined): PlanWarning[] {
  const recorded = live ? decodeState(live.annotations) : undefined;
  const unfinished = ['rolling-out', 'paused', 'halted', 'rolling-back', 'cancelled', 'failed'];
  if (!recorded || !unfinished.includes(recorded.phase)) return [];
  return [
    {
      what: `a rollout of ${recorded.targetRevision} is ${recorded.phase} at stage ${recorded.stage}`,
      fix:
        recorded.phase === 'paused'
          ? 'promote or abort it before merging: a new change supersedes it'
          : 'let it finish (or roll it back) before merging: a new change starts over from a frozen partition',
    },
  ];
}

/** Pods below the first partition not Ready: the rollout refuses (issue 13; see start-health.ts). */
function unhealthyStartWarnings(
  settings: Settings,
  observation: Observation | undefined,
  replicas: number,
): PlanWarning[] {
  const first = planPartitions(settings.steps, replicas)[0];
  if (!observation || first === undefined || !blocksController(observation)) return [];
  const pods = unhealthyBelow(observation, first).map((p) => p.name);
  if (pods.length === 0) return [];
  return [
    {
      what: `${pods.join(', ')} below the first stage's partition ${first} ${pods.length === 1 ? 'is' : 'are'} not Ready: an OrderedReady controller updates no pod until they are`,
      fix: settings.allowUnhealthyStart
        ? 'allow-unhealthy-start is true: the rollout goes on, and its canary stage waits for them'
        : 'the rollout refuses before changing anything: fix them first, or set allow-unhealthy-start: true for a change meant to heal them',
    },
  ];
}

const GITOPS = /argocd|kustomize-controller|helm|flux/i;

function ownerWarnings(live: KubeObject, settings: Settings): PlanWarning[] {
  const ours = settings.fieldManager;
  const notOurs = (m: string) => m !== ours && m !== 'kube-controller-manager';
  const warnings: PlanWarning[] = [];
  const partition = managersOf(live, ['f:spec', 'f:updateStrategy', 'f:rollingUpdate', 'f:partition']).filter(
    notOurs,
  );
  if (partition.length > 0) {
    warnings.push({
      what: `spec.updateStrategy.rollingUpdate.partition is owned by ${partition.join(', ')}`,
      fix: partition.some((m) => GITOPS.test(m))
        ? 'a GitOps controller or Helm resets the partition on every sync: take it out of Git and use apply: false (see "Beside Argo CD and Flux")'
        : 'the rollout takes the partition over; whoever set it by hand should leave it to the rollout',
    });
  }
  const template = managersOf(live, ['f:spec', 'f:template']).filter(notOurs);
  if (template.length > 0) {
    warnings.push({
      what: `fields of the pod template are owned by ${template.join(', ')}`,
      fix: template.some((m) => GITOPS.test(m))
        ? 'a GitOps controller applies this StatefulSet: use apply: false so the two do not fight over the template'
        : 'the apply takes over the fields the manifests set; fields it does not set stay as they are',
    });
  }
  return warnings;
}

/** The plan for a terminal (and the step log). */
export function planText(plan: PlanReport): string {
  if (plan.refusal) return `The manifests would be refused: ${plan.refusal}`;
  const lines: string[] = (plan.order ?? []).map(
    (w, i) => `Wave ${i + 1} (${w.name}): ${w.members.join(', ')}`,
  );
  for (const sts of plan.statefulSets) {
    const head = `StatefulSet ${sts.namespace}/${sts.name}`;
    if (sts.kind === 'new')
      lines.push(`${head}: new, created with ${sts.replicas} replicas (no canary stages)`);
    else if (sts.kind === 'no-change') lines.push(`${head}: no change to the pod template`);
    else {
      const down = sts.maxUnavailable ?? 'at most 1 pod down at once';
      lines.push(`${head}: ${sts.replicas} replicas, partition ${sts.replicas} (frozen), ${down}, then:`);
      for (const s of sts.stages) {
        lines.push(
          `  stage ${s.stage}: partition ${s.partition}, restarts ordinal ${s.ordinals.join(', ')} on the new revision`,
        );
      }
      for (const check of sts.analysis) lines.push(`  analysis ${check}`);
      for (const hook of sts.hooks ?? []) lines.push(`  hook ${hook}`);
      if (sts.primary)
        lines.push(
          `  primary ${sts.primary.pod ?? '(unknown)'} (${sts.primary.finder}): ${sts.primary.moves.join('; ')}`,
        );
    }
    for (const i of sts.images) lines.push(`  image ${i.container}: ${i.from ?? '(none)'} -> ${i.to}`);
    for (const c of sts.specChanges) lines.push(`  ${c.field}: ${c.from} -> ${c.to}`);
    if (sts.templateDiff) lines.push(...sts.templateDiff.split('\n').map((l) => `  ${l}`));
    for (const w of sts.warnings) lines.push(`  warning: ${w.what}; ${w.fix}`);
  }
  for (const o of plan.others) lines.push(`${o.object}: ${o.change}`);
  return lines.join('\n');
}
