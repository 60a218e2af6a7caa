// Server-side dry-run of every manifest object before anything changes, with prerequisites
// (Namespaces, CRDs, StorageClasses, ...) first, as kubectl users expect.
import type { AnalysisCheck } from '../engine/analysis.ts';
import { describe } from '../manifests/checks.ts';
import type { ManifestSet, SourcedObject } from '../manifests/load.ts';
import type { Cluster, KubeObject } from '../ports/cluster.ts';
import type { Log } from '../ports/log.ts';
import { portsOf, refOf, replicasOf, withPartition } from './rollout/objects.ts';
import { type Gates, gateProblem } from './validate-gates.ts';

/** A manifest problem the API server found in a dry-run: nothing was changed. */
export class ValidationError extends Error {
  override name = 'ValidationError';
}

/** Kinds other objects depend on, applied (and dry-run) first, in this order. */
const PREREQUISITES = [
  'Namespace',
  'CustomResourceDefinition',
  'StorageClass',
  'PriorityClass',
  'ServiceAccount',
  'ConfigMap',
  'Secret',
];

/** The non-StatefulSet objects in apply order: prerequisites first, then file order. */
function applyOrder(others: readonly SourcedObject[]): SourcedObject[] {
  const rank = (o: SourcedObject) => {
    const i = PREREQUISITES.indexOf(o.object.kind);
    return i === -1 ? PREREQUISITES.length : i;
  };
  return others
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => o);
}

export interface Validated {
  /** The other objects, in the order to apply them. */
  readonly others: readonly SourcedObject[];
  /** Each StatefulSet as the dry-run defaulted it (the object itself when it could not be dry-run). */
  readonly statefulSets: readonly KubeObject[];
  /** Namespaces the manifests create that do not exist yet: applied before the lock is taken in them. */
  readonly newNamespaces: readonly KubeObject[];
}

/**
 * Dry-runs everything in apply order. An object in a Namespace that the same manifests create
 * cannot be dry-run before that Namespace exists; it is checked when applied instead (it can
 * only be new, so no running workload is at stake), and the log says so.
 */
export interface ValidateOptions {
  /**
   * A GitOps controller applies (apply: false): dry-run each StatefulSet as a new object under a
   * name of its own, so the template comes back defaulted exactly as the manifests say, not merged
   * with the fields the live object has from other field managers.
   */
  readonly asNew?: boolean;
  /** Checks whose named ports and pod proxy permission are checked against each StatefulSet. */
  readonly analysis?: readonly AnalysisCheck[];
  /** The checks, hooks and primary whose containers, selectors and permissions are checked (validate-gates.ts). */
  readonly gates?: Gates;
}

export async function validate(
  cluster: Cluster,
  log: Log,
  manifests: ManifestSet,
  options: ValidateOptions = {},
): Promise<Validated> {
  const others = applyOrder(manifests.others);
  const newNamespaces = new Set<string>();
  const check = async (item: SourcedObject, object: KubeObject): Promise<KubeObject> => {
    const ns = item.object.metadata.namespace;
    if (ns !== undefined && newNamespaces.has(ns)) return object;
    try {
      const [result] = await cluster.apply([object], { dryRun: true });
      return result ?? object;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      if (ns !== undefined && createdHere(manifests, ns) && /namespaces? "[^"]+" not found/i.test(why)) {
        newNamespaces.add(ns);
        log.info(`Namespace ${ns} is new (created by these manifests): its objects are checked when applied`);
        return object;
      }
      throw new ValidationError(
        `${item.source}: ${describe(item.object)} was rejected by the API server in a server-side dry-run: ` +
          `${why.replace(/[.\s]+$/, '')}. ` +
          `${fixFor(why)}Nothing was changed in the cluster.`,
      );
    }
  };
  for (const item of others) await check(item, item.object);
  const statefulSets: KubeObject[] = [];
  const access = new Map<string, Promise<boolean>>();
  for (const item of manifests.statefulSets) {
    // Any partition will do for a dry-run: it is the template and the defaults we want back.
    const object = withPartition(item.object, replicasOf(item.object) ?? 0);
    const checked = options.asNew
      ? { ...object, metadata: { ...object.metadata, name: `${object.metadata.name}-canary-dry-run` } }
      : object;
    const dryRun = await check(item, checked);
    await refuseOrdinalsChange(cluster, item, dryRun);
    statefulSets.push(dryRun);
    await checkAnalysis(cluster, item, dryRun, options.analysis ?? [], access);
    const gates = options.gates && (await gateProblem(cluster, item, dryRun, options.gates, access));
    if (gates) throw new ValidationError(gates);
  }
  const newNamespaceObjects = others
    .filter((o) => o.object.kind === 'Namespace' && newNamespaces.has(o.object.metadata.name))
    .map((o) => o.object);
  return { others, statefulSets, newNamespaces: newNamespaceObjects };
}

/** `spec.ordinals.start` of a StatefulSet object (0 when unset, as the API server defaults it). */
function ordinalsStartOf(object: KubeObject): number {
  const spec = object.spec as { ordinals?: { start?: unknown } } | undefined;
  const start = spec?.ordinals?.start;
  return typeof start === 'number' ? start : 0;
}

/**
 * A change of `spec.ordinals.start` is not staged by the partition: the controller deletes the
 * pods whose ordinals leave the range and creates the new ones at once, whatever the
 * partition. Refused before anything changes. `dryRun` is the StatefulSet as the apply would
 * leave it (a start set by another field manager stays; one only this manager set goes).
 */
async function refuseOrdinalsChange(
  cluster: Cluster,
  item: SourcedObject,
  dryRun: KubeObject,
): Promise<void> {
  // The StatefulSet alone, not its pods: at 1000 replicas a list of them is 4 MB to parse.
  const live = await cluster.read(item.object);
  if (live === undefined) return;
  const from = ordinalsStartOf(live);
  const to = ordinalsStartOf(dryRun);
  if (from === to) return;
  const replicas = replicasOf(live) ?? 1;
  const range = (start: number) => (replicas > 0 ? `${start}..${start + replicas - 1}` : 'none');
  throw new ValidationError(
    `${item.source}: ${describe(item.object)} changes spec.ordinals.start from ${from} to ${to}: the StatefulSet ` +
      `controller would delete the pods with ordinals ${range(from)} and create ${range(to)} at once, whatever the ` +
      'partition, so no canary stage could gate it. Keep ordinals.start at ' +
      `${from} in the manifests to roll the change out; change ordinals.start on its own, outside a rollout. ` +
      'Nothing was changed in the cluster.',
  );
}

/**
 * Analysis checks against a StatefulSet: a named port must be declared by a container of its
 * template, and HTTP checks through the pod proxy need get on pods/proxy in its namespace.
 */
async function checkAnalysis(
  cluster: Cluster,
  item: SourcedObject,
  dryRun: KubeObject,
  checks: readonly AnalysisCheck[],
  access: Map<string, Promise<boolean>>,
): Promise<void> {
  const template = (dryRun.spec as { template?: unknown } | undefined)?.template;
  const ports = portsOf(template);
  const proxied = checks.flatMap((check) =>
    check.probe.kind === 'http' && check.probe.url === undefined ? [{ check, probe: check.probe }] : [],
  );
  for (const { check, probe } of proxied) {
    if (typeof probe.port === 'string' && ports[probe.port] === undefined) {
      const known = Object.keys(ports);
      throw new ValidationError(
        `Input analysis: check "${check.name}": http.port ${probe.port} is not a port name of ${describe(item.object)} ` +
          `(${item.source}); ${known.length ? `its containers name ${known.join(', ')}` : 'its containers name no ports'}. ` +
          'Name a declared port, or give the port number. Nothing was changed in the cluster.',
      );
    }
  }
  const { canI } = cluster;
  if (canI === undefined) return;
  const namespace = refOf(item.object).namespace;
  for (const { check, probe } of proxied) {
    // RBAC asks for get on a GET or HEAD through the proxy, and create on a POST.
    const verb = probe.method === 'POST' ? 'create' : 'get';
    // One access review per namespace and verb, however many checks and StatefulSets ask.
    const key = `${namespace} ${verb}`;
    if (!access.has(key)) access.set(key, canI.call(cluster, namespace, verb, 'pods/proxy'));
    if (await access.get(key)) continue;
    throw new ValidationError(
      `Input analysis: check "${check.name}" reaches the pods of ${describe(item.object)} through the API server's ` +
        `pod proxy, but this run may not ${verb} pods/proxy in namespace ${namespace}. Add the opt-in rule from the RBAC table ` +
        `in docs/permissions.md (resources: ["pods/proxy"], verbs: ["${verb}"]), or use the url form of the check from a runner that ` +
        'reaches the pods. Nothing was changed in the cluster.',
    );
  }
}

function createdHere(manifests: ManifestSet, namespace: string): boolean {
  return manifests.others.some((o) => o.object.kind === 'Namespace' && o.object.metadata.name === namespace);
}

function fixFor(message: string): string {
  // Up to 1.36: "Forbidden: updates to statefulset spec for fields other than ..."; 1.37 names the
  // field: "spec.volumeClaimTemplates: Invalid value: ...: field is immutable".
  if (
    /Forbidden: updates to statefulset spec|spec\.[A-Za-z]+: Invalid value: .*field is immutable/i.test(
      message,
    )
  ) {
    return 'Only replicas, template, updateStrategy, minReadySeconds, ordinals and persistentVolumeClaimRetentionPolicy can change in place; to change other fields (such as volumeClaimTemplates) recreate the StatefulSet (kubectl delete statefulset NAME --cascade=orphan, then run again: the running pods are adopted and the change is rolled out over them stage by stage). ';
  }
  return 'Fix the manifest and run again. ';
}
