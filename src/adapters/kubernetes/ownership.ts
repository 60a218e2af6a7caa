// Writes of a StatefulSet beyond apply and partition: which field manager owns the pod
// template after a rollback, marks on ControllerRevisions, and what a StatefulSet deleted with
// `--cascade=orphan` left behind.
import type { LabelSelector, Orphans, StatefulSetRef } from '../../ports/cluster.ts';
import { KubeError } from './errors.ts';
import type { Api } from './http.ts';
import { controllerRevisionsPath, podsPath, statefulSetPath } from './paths.ts';
import { failedAnnotation, podOrdinal, revisionLabel, selectorString, toRevisionInfo } from './translate.ts';
import type {
  RawControllerRevision,
  RawList,
  RawManagedFields,
  RawMeta,
  RawPod,
  RawStatefulSet,
} from './types.ts';

type Fields = Record<string, unknown>;

function mergedFields(a: Fields, b: Fields): Fields {
  const out: Fields = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key];
    out[key] =
      mine && typeof mine === 'object' && value && typeof value === 'object'
        ? mergedFields(mine as Fields, value as Fields)
        : value;
  }
  return out;
}

/**
 * Managed fields after moving `spec.template` from `manager`'s Update entries into its Apply
 * entry, or undefined when there is nothing to move.
 *
 * Why: a rollback writes the template with an Update (the controller's own strategic-merge data,
 * so the revision comes back exactly). Left so, the Update entry owns the restored fields and
 * the next server-side apply, which only removes fields its Apply entry owned, would leave what
 * the manifests dropped (a sidecar, an env var) in the template for good.
 */
function templateToApply(
  entries: readonly RawManagedFields[],
  manager: string,
): RawManagedFields[] | undefined {
  const mine = (e: RawManagedFields) => e.manager === manager && !e.subresource;
  const apply = entries.find((e) => mine(e) && e.operation === 'Apply');
  const template = (e: RawManagedFields) => (e.fieldsV1?.['f:spec'] as Fields | undefined)?.['f:template'];
  const updates = entries.filter((e) => mine(e) && e.operation === 'Update' && template(e) !== undefined);
  if (!apply || updates.length === 0) return undefined;
  let moved: Fields = {};
  for (const update of updates) moved = mergedFields(moved, template(update) as Fields);
  return entries.flatMap((entry): RawManagedFields[] => {
    if (entry === apply) {
      return [
        { ...entry, fieldsV1: mergedFields(entry.fieldsV1 ?? {}, { 'f:spec': { 'f:template': moved } }) },
      ];
    }
    if (!updates.includes(entry)) return [entry];
    const { 'f:template': _template, ...spec } = (entry.fieldsV1?.['f:spec'] ?? {}) as Fields;
    const { 'f:spec': _spec, ...rest } = entry.fieldsV1 ?? {};
    const fieldsV1 = Object.keys(spec).length > 0 ? { ...rest, 'f:spec': spec } : rest;
    return Object.keys(fieldsV1).length > 0 ? [{ ...entry, fieldsV1 }] : [];
  });
}

/** Gives `manager`'s Apply entry the template its Update entries own (see templateToApply). */
export async function adoptTemplate(api: Api, ref: StatefulSetRef, manager: string): Promise<void> {
  const operation = { verb: 'patch managedFields of', kind: 'StatefulSet', ...ref };
  // Optimistic concurrency, not error handling: the controller writes the status (and so the
  // resourceVersion) while pods move, so a conflict here is expected and simply read again.
  for (let attempt = 1; ; attempt++) {
    const live = await api.request<RawStatefulSet>(
      { ...operation, verb: 'get' },
      { method: 'GET', path: statefulSetPath(ref) },
    );
    const entries = templateToApply(live.metadata?.managedFields ?? [], manager);
    if (!entries) return;
    try {
      // resourceVersion as a precondition: the managed fields we rewrite are the ones we read.
      await api.request(operation, {
        method: 'PATCH',
        path: statefulSetPath(ref),
        body: { metadata: { resourceVersion: live.metadata?.resourceVersion, managedFields: entries } },
        contentType: 'application/merge-patch+json',
      });
      return;
    } catch (error) {
      if (!(error instanceof KubeError) || error.status !== 409 || attempt >= 10) throw error;
    }
  }
}

/** Sets (or with null removes) the failed mark of each ControllerRevision named. */
export async function markRevisions(
  api: Api,
  ref: StatefulSetRef,
  fieldManager: string,
  marks: Readonly<Record<string, string | null>>,
): Promise<void> {
  for (const [name, mark] of Object.entries(marks)) {
    await api.request(
      { verb: 'patch', kind: 'ControllerRevision', namespace: ref.namespace, name },
      {
        method: 'PATCH',
        path: `${controllerRevisionsPath(ref.namespace)}/${encodeURIComponent(name)}`,
        query: { fieldManager },
        body: {
          metadata: { annotations: { [failedAnnotation]: mark === null ? null : mark.slice(0, 1000) } },
        },
        contentType: 'application/merge-patch+json',
      },
    );
  }
}

const uncontrolled = (meta: RawMeta | undefined) => !(meta?.ownerReferences ?? []).some((o) => o.controller);

export async function findOrphans(api: Api, ref: StatefulSetRef, selector: LabelSelector): Promise<Orphans> {
  const query = { labelSelector: selectorString(selector) };
  const pods: RawPod[] = [];
  await api.list<RawPod>(
    { verb: 'list', kind: 'pods', namespace: ref.namespace },
    { path: podsPath(ref.namespace), query },
    (pod) => {
      if (uncontrolled(pod.metadata)) pods.push(pod);
    },
  );
  const revisions = await api.request<RawList<RawControllerRevision>>(
    { verb: 'list', kind: 'ControllerRevisions', namespace: ref.namespace },
    { method: 'GET', path: controllerRevisionsPath(ref.namespace), query },
  );
  return {
    pods: pods
      .filter((p) => podOrdinal(p.metadata?.name ?? '', ref.name) !== undefined)
      .map((p) => ({ name: p.metadata?.name ?? '', revision: p.metadata?.labels?.[revisionLabel] ?? '' })),
    revisions: (revisions.items ?? [])
      .filter((r) => uncontrolled(r.metadata) && (r.metadata?.name ?? '').startsWith(`${ref.name}-`))
      .map((r) => ({ ...toRevisionInfo(r, ref.name), template: r.data?.spec?.template }))
      .sort((a, b) => a.number - b.number),
  };
}
