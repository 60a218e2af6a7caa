// From the inputs and the manifests to the fleet: which StatefulSets go in which wave, in which
// contexts, in which order. Refused (a ValidationError naming the input and the fix) before
// anything changes.
import type { Settings } from '../../config/settings.ts';
import type { Fleet } from '../../engine/fleet.ts';
import type { PlanWave } from '../../engine/plan-report.ts';
import { assignWaves, type ClusterWave, fleetOf, type WaveCandidate } from '../../engine/waves.ts';
import type { ManifestSet } from '../../manifests/load.ts';
import type { KubeObject } from '../../ports/cluster.ts';
import { ValidationError } from '../validate.ts';
import type { ValidatedTarget } from './targets.ts';
import type { RunWave } from './waves.ts';

/** The manifests' StatefulSets (by index) in the waves of the `waves` input, or refused. */
function stsWaves(settings: Settings, manifests: ManifestSet): readonly (readonly number[])[] {
  const assigned = assignWaves(
    settings.waves,
    manifests.statefulSets.map((s) => candidateOf(s.object)),
  );
  if (assigned.kind === 'refused') throw new ValidationError(`Input waves: ${assigned.problem}`);
  return assigned.waves;
}

/** The cluster waves: the `clusters` input, else the one context. */
function clusterWaves(settings: Settings, contextName: string): readonly ClusterWave[] {
  return settings.clusters.length > 0 ? settings.clusters : [{ name: undefined, contexts: [contextName] }];
}

/** With `waves` or `clusters`: the waves the plan shows, in order; else none (one after another). */
export function planOrder(
  settings: Settings,
  manifests: ManifestSet,
  contextName: string,
): PlanWave[] | undefined {
  if (settings.waves.length === 0 && settings.clusters.length === 0) return undefined;
  return fleetFor(settings, manifests, contextName).fleet.waves.map((w) => ({
    name: w.name,
    members: w.members.map((m) => `${m.context}/${m.namespace}/${m.name}`),
  }));
}

/** The fleet the reporters show, for the plan and for the run, and its waves per cluster wave. */
function fleetFor(
  settings: Settings,
  manifests: ManifestSet,
  contextName: string,
): { readonly fleet: Fleet; readonly perCluster: number } {
  const waves = stsWaves(settings, manifests);
  const candidates = manifests.statefulSets.map((s) => candidateOf(s.object));
  const fleet = fleetOf(
    waves.map((w) => w.map((i) => candidates[i] as WaveCandidate)),
    settings.waves.map((w) => w.name),
    clusterWaves(settings, contextName),
  );
  return { fleet, perCluster: waves.length };
}

/** The waves to run: each fleet wave's members with their validated target and dry-run. */
export function runWavesOf(
  settings: Settings,
  manifests: ManifestSet,
  targets: readonly ValidatedTarget[],
): { readonly fleet: Fleet; readonly waves: readonly RunWave[] } {
  const first = targets[0]?.contextName ?? '';
  const { fleet, perCluster } = fleetFor(settings, manifests, first);
  const byContext = new Map(targets.map((t) => [t.contextName, t]));
  const indexOf = new Map(manifests.statefulSets.map((s, i) => [keyOf(s.object), i]));
  const waves = fleet.waves.map(
    (wave): RunWave => ({
      name: wave.name,
      clusterWave: Math.floor(wave.index / perCluster),
      members: wave.members.map((m) => {
        const target = byContext.get(m.context);
        const index = indexOf.get(`${m.namespace}/${m.name}`) ?? -1;
        const item = manifests.statefulSets[index];
        if (target === undefined || item === undefined)
          throw new Error(`fleet member ${m.context}/${m.namespace}/${m.name} has no target`);
        return { target, object: item.object, dryRun: target.validated.statefulSets[index] ?? item.object };
      }),
    }),
  );
  return { fleet, waves };
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function candidateOf(object: KubeObject): WaveCandidate {
  const { namespace = '', name, labels } = object.metadata;
  const stringLabels = Object.fromEntries(
    Object.entries(labels !== null && typeof labels === 'object' ? labels : {}).filter(
      (e): e is [string, string] => typeof e[1] === 'string',
    ),
  );
  return { namespace, name, labels: stringLabels };
}
