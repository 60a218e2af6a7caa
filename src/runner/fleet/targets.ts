// The kube contexts of a run (input `clusters`, else the one context), each with its own
// Cluster and Lock; and the checks in every one of them before anything changes anywhere.
import { describe } from '../../manifests/checks.ts';
import type { ManifestSet } from '../../manifests/load.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import type { Lock, LockHandle } from '../../ports/lock.ts';
import type { Log } from '../../ports/log.ts';
import type { RunScope } from '../run.ts';
import { type Validated, type ValidateOptions, ValidationError, validate } from '../validate.ts';

/** One kube context the run goes to. */
export interface Target {
  readonly contextName: string;
  readonly cluster: Cluster;
  readonly lock: Lock;
}

/** A target with its manifests dry-run there. */
export interface ValidatedTarget extends Target {
  readonly validated: Validated;
}

/**
 * Dry-runs the manifests in every context, one after another, before any of them changes: a
 * context that cannot be reached or refuses the run is named, and nothing anywhere was touched.
 */
export async function validateTargets(
  targets: readonly Target[],
  log: Log,
  manifests: ManifestSet,
  options: ValidateOptions,
): Promise<ValidatedTarget[]> {
  const several = targets.length > 1;
  const done: ValidatedTarget[] = [];
  for (const target of targets) {
    try {
      if (several) log.info(`Checking the manifests in context ${target.contextName}`);
      done.push({ ...target, validated: await validate(target.cluster, log, manifests, options) });
    } catch (error) {
      if (!several) throw error;
      throw new ValidationError(
        `clusters: context ${target.contextName} cannot take the rollout, so nothing was changed in any context: ${(error as Error).message}`,
      );
    }
  }
  return done;
}

/** Applies the Namespaces the manifests create in each context (the locks live in them). */
export async function applyNewNamespaces(targets: readonly ValidatedTarget[]): Promise<void> {
  for (const t of targets)
    if (t.validated.newNamespaces.length > 0)
      await t.cluster.apply(t.validated.newNamespaces, { dryRun: false });
}

/** Applies the objects that are not StatefulSets, in one context, before its StatefulSets. */
export async function applyOthers(scope: RunScope, target: ValidatedTarget, prefix: string): Promise<void> {
  const { others } = target.validated;
  if (!scope.settings.apply || others.length === 0) return;
  const names = others.map((o) => describe(o.object)).join(', ');
  scope.deps.log.info(`${prefix}Applying ${others.length} object(s): ${names}`);
  await target.cluster.apply(
    others.map((o) => o.object),
    { dryRun: false },
  );
}

/** A StatefulSet to lock, with the lock of its context. */
export interface LockRequest {
  readonly lock: Lock;
  readonly ref: StatefulSetRef;
}

/** Runs `body` holding every lock of `requests`; its scope's signal also stops on a lost lock. */
export async function withLocks<T>(
  scope: RunScope,
  requests: readonly LockRequest[],
  holder: string,
  body: (locked: RunScope) => Promise<T>,
): Promise<T> {
  const { deps, settings, signal } = scope;
  const held: LockHandle[] = [];
  try {
    for (const { lock, ref } of requests) held.push(await lock.acquire(ref, holder, settings.lockTimeoutMs));
    const which = requests.length > 1 ? 'every StatefulSet of this run' : 'the rollout';
    held.forEach((handle, i) => {
      const ref = requests[i]?.ref;
      handle.lost.addEventListener(
        'abort',
        () => {
          const reason = handle.lost.reason instanceof Error ? ` (${handle.lost.reason.message})` : '';
          deps.log.warning(
            `Lost the lock on ${ref?.namespace}/${ref?.name}${reason}: stopping ${which} before the next partition change`,
          );
        },
        { once: true },
      );
    });
    // Losing a lock stops the whole run like a cancellation, before the next partition write: the
    // run holds its locks together, and a lost one means another run took it over or this one
    // could not reach the cluster for a lease duration, neither a state to go on changing pods in.
    return await body({ ...scope, signal: AbortSignal.any([signal, ...held.map((h) => h.lost)]) });
  } finally {
    for (const handle of held.reverse()) {
      await handle
        .release()
        .catch((e: unknown) => deps.log.warning(`could not release the lock: ${String(e)}`));
    }
  }
}
