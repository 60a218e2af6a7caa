// One run of a command, shared by the action (src/main.ts) and the CLI (src/cli.ts):
// manifests -> validation (dry-run) -> lock -> rollout or rollback -> result.
import { hostname } from 'node:os';
import type { Settings } from './config/settings.ts';
import { loadManifests, type ManifestSet, type SourcedObject } from './manifests/load.ts';
import type { Clock } from './ports/clock.ts';
import type { Cluster, KubeObject, StatefulSetRef } from './ports/cluster.ts';
import type { Lock, LockHandle } from './ports/lock.ts';
import type { Log } from './ports/log.ts';
import type { Reporter } from './ports/reporter.ts';
import type { Result, RunContext, StatefulSetResult } from './runner/common.ts';
import { describe, refOf, replicasOf, withPartition } from './runner/objects.ts';
import type { StageOutput } from './runner/progress.ts';
import { rollbackStatefulSet } from './runner/rollback.ts';
import { rolloutStatefulSet } from './runner/rollout.ts';
import { planText, statusText } from './runner/status.ts';

export interface AppDeps {
  readonly cluster: Cluster;
  readonly lock: Lock;
  readonly clock: Clock;
  readonly log: Log;
  /** Every report of the run (one per StatefulSet, told apart by the report's namespace and name). */
  readonly reporter: Reporter;
  /** Namespace of the kubeconfig context (else `default`). */
  readonly defaultNamespace: string;
  readonly cwd: string;
}

export interface Outcome {
  readonly result: Result;
  readonly revision: string | undefined;
  readonly previousRevision: string | undefined;
  readonly stages: readonly (StageOutput & { statefulSet: string })[];
  readonly durationSeconds: number;
  /** Set when the step must fail, saying why. */
  readonly failure: string | undefined;
  /** Text for `status` and `plan`. */
  readonly text: string | undefined;
}

/** A manifest problem the API server found in a dry-run: nothing was changed. */
export class ValidationError extends Error {
  override name = 'ValidationError';
}

const SEVERITY: readonly Result[] = [
  'no-change',
  'created',
  'succeeded',
  'rolled-back',
  'halted',
  'cancelled',
  'failed',
];

export async function execute(
  settings: Settings,
  deps: AppDeps,
  run: RunContext,
  signal: AbortSignal,
): Promise<Outcome> {
  const started = deps.clock.now();
  const finish = (results: StatefulSetResult[], text?: string): Outcome =>
    summarize(settings, results, (deps.clock.now() - started) / 1000, text);
  switch (settings.command) {
    case 'rollout': {
      const manifests = await load(settings, deps);
      const dryRuns = await validate(deps, manifests);
      const refs = manifests.statefulSets.map((s) => refOf(s.object));
      const results = await withLocks(deps, settings, run, refs, signal, (locked) =>
        rolloutAll(deps, settings, run, manifests, dryRuns, locked),
      );
      return finish(results);
    }
    case 'rollback': {
      const ref = targetRef(settings, deps);
      const result = await withLocks(deps, settings, run, [ref], signal, (locked) =>
        rollbackStatefulSet(deps, settings, run, ref, locked),
      );
      return finish([result]);
    }
    case 'status':
      return finish([], await statusText(deps.cluster, targetRef(settings, deps)));
    case 'plan': {
      const manifests = await load(settings, deps);
      await validate(deps, manifests);
      return finish(
        [],
        await planText(
          deps.cluster,
          settings,
          manifests.statefulSets.map((s) => s.object),
        ),
      );
    }
  }
}

/** Applies the other objects, then rolls the StatefulSets out one by one, stopping at the first that fails. */
async function rolloutAll(
  deps: AppDeps,
  settings: Settings,
  run: RunContext,
  manifests: ManifestSet,
  dryRuns: readonly KubeObject[],
  signal: AbortSignal,
): Promise<StatefulSetResult[]> {
  if (manifests.others.length > 0) {
    const names = manifests.others.map((o) => describe(o.object)).join(', ');
    deps.log.info(`Applying ${manifests.others.length} object(s): ${names}`);
    await deps.cluster.apply(
      manifests.others.map((o) => o.object),
      { dryRun: false },
    );
  }
  const done: StatefulSetResult[] = [];
  for (const [index, item] of manifests.statefulSets.entries()) {
    const object = dryRuns[index] ?? item.object;
    const result = await rolloutStatefulSet(deps, settings, run, item.object, object, signal);
    done.push(result);
    if (!['succeeded', 'no-change', 'created'].includes(result.result)) break;
  }
  return done;
}

function targetRef(settings: Settings, deps: AppDeps): StatefulSetRef {
  if (!settings.statefulset)
    throw new ValidationError(`command ${settings.command} needs the statefulset input`);
  return { namespace: settings.namespace ?? deps.defaultNamespace, name: settings.statefulset };
}

function load(settings: Settings, deps: AppDeps) {
  return loadManifests(settings.manifests, {
    namespaceOverride: settings.namespace,
    defaultNamespace: deps.defaultNamespace,
    cwd: deps.cwd,
  });
}

/** Server-side dry-run of everything, in order, before any change. Returns the StatefulSets as defaulted. */
async function validate(deps: AppDeps, manifests: ManifestSet): Promise<KubeObject[]> {
  const check = async (item: SourcedObject, object: KubeObject): Promise<KubeObject> => {
    try {
      const [result] = await deps.cluster.apply([object], { dryRun: true });
      return result ?? object;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new ValidationError(
        `${item.source}: ${describe(item.object)} was rejected by the API server in a server-side dry-run: ${why}. ` +
          `${fixFor(why)}Nothing was changed in the cluster.`,
      );
    }
  };
  for (const item of manifests.others) await check(item, item.object);
  const dryRuns: KubeObject[] = [];
  for (const item of manifests.statefulSets)
    dryRuns.push(await check(item, withPartition(item.object, replicasOf(item.object))));
  return dryRuns;
}

function fixFor(message: string): string {
  if (/Forbidden: updates to statefulset spec/i.test(message)) {
    return 'Only replicas, template, updateStrategy, minReadySeconds, ordinals and persistentVolumeClaimRetentionPolicy can change in place; to change other fields (such as volumeClaimTemplates) recreate the StatefulSet (kubectl delete statefulset NAME --cascade=orphan, then apply). ';
  }
  return 'Fix the manifest and run again. ';
}

async function withLocks<T>(
  deps: AppDeps,
  settings: Settings,
  run: RunContext,
  refs: readonly StatefulSetRef[],
  signal: AbortSignal,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  // The run URL tells people who holds the lock; the process makes two jobs of one run distinct.
  const holder = `${run.runUrl ?? 'statefulset-canary CLI'} (${hostname()} pid ${process.pid})`;
  const held: LockHandle[] = [];
  try {
    for (const ref of refs) held.push(await deps.lock.acquire(ref, holder, settings.lockTimeoutMs));
    for (const handle of held) {
      handle.lost.addEventListener(
        'abort',
        () => deps.log.warning('Lost the lock on the StatefulSet: stopping before the next partition change'),
        { once: true },
      );
    }
    // Losing a lock stops the run like a cancellation: before the next partition write.
    return await body(AbortSignal.any([signal, ...held.map((h) => h.lost)]));
  } finally {
    for (const handle of held.reverse()) {
      await handle
        .release()
        .catch((e: unknown) => deps.log.warning(`could not release the lock: ${String(e)}`));
    }
  }
}

function summarize(
  settings: Settings,
  results: StatefulSetResult[],
  durationSeconds: number,
  text?: string,
): Outcome {
  const worst = results.reduce<Result>(
    (acc, r) => (SEVERITY.indexOf(r.result) > SEVERITY.indexOf(acc) ? r.result : acc),
    'no-change',
  );
  const ok: readonly Result[] =
    settings.command === 'rollback' ? ['rolled-back', 'no-change'] : ['succeeded', 'no-change', 'created'];
  const failed = results.find((r) => !ok.includes(r.result));
  const first = results[0];
  return {
    result: worst,
    revision: first?.revision,
    previousRevision: first?.previousRevision,
    stages: results.flatMap((r) =>
      r.stages.map((s) => ({ statefulSet: `${r.ref.namespace}/${r.ref.name}`, ...s })),
    ),
    durationSeconds: Math.round(durationSeconds * 10) / 10,
    failure: failed
      ? `${failed.ref.namespace}/${failed.ref.name}: ${failed.result}: ${failed.message ?? ''}`
      : undefined,
    text,
  };
}
