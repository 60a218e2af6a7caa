// A rollout of all the manifests, in every context of the run: checked everywhere first, then
// the fleet's waves in order (src/runner/fleet/waves.ts). Without the `waves` and `clusters`
// inputs each StatefulSet is a wave of its own, in file order, in the one context: one after
// another, stopping at the first that fails, as before waves existed.
import type { ManifestSet } from '../../manifests/load.ts';
import { runWavesOf } from '../fleet/plan.ts';
import { applyNewNamespaces, type Target, validateTargets, withLocks } from '../fleet/targets.ts';
import { runWaves } from '../fleet/waves.ts';
import type { RunScope, StatefulSetResult } from '../run.ts';
import { refOf } from './objects.ts';

/** Checks the manifests in every target, then rolls the fleet out under every lock. */
export async function rolloutAll(
  scope: RunScope,
  manifests: ManifestSet,
  targets: readonly Target[],
  holder: string,
): Promise<StatefulSetResult[]> {
  const { deps, settings } = scope;
  const validated = await validateTargets(targets, deps.log, manifests, {
    asNew: !settings.apply,
    analysis: settings.analysis,
    gates: settings,
  });
  const { fleet, waves } = runWavesOf(settings, manifests, validated);
  // The lock (a Lease) lives in the StatefulSet's namespace: a new one must exist first.
  if (settings.apply) await applyNewNamespaces(validated);
  const locks = waves.flatMap((w) => w.members.map((m) => ({ lock: m.target.lock, ref: refOf(m.object) })));
  deps.reporter.fleet?.(fleet);
  return withLocks(scope, locks, holder, (locked) => runWaves(locked, waves, targets.length > 1));
}
