// What the plan may show of two pod templates (issue 26): a plan comment on a pull request is
// read by everyone who can read the pull request, so it shows only what they could read without
// the cluster. Pure; src/runner/commands/plan.ts applies it to the live template and the dry-run
// template before the diff is made, unless `plan-show-values` is true.
//
// - An `env[].value` of any container, live or next, becomes `(hidden)`; on the next side it is
//   `(hidden, value changed)` when the live value differs, so the diff still shows a change:
//       live  {name: DB_URL, value: postgres://u:pw@a}   ->  {name: DB_URL, value: (hidden)}
//       next  {name: DB_URL, value: postgres://u:pw@b}   ->  {name: DB_URL, value: (hidden, value changed)}
//   `valueFrom` (a Secret's or ConfigMap's name and key) and `envFrom` stay: they name where a
//   value comes from, never the value, and the data they read is never in a template.
// - An entry the manifests do not set (a container, an init container, a volume, an env var of a
//   container, a template label or annotation, a key of the pod spec or of a live container) that
//   the dry-run result has and the live template has not, was set by admission (a mutating
//   webhook or policy): it becomes `NAME (added by admission, N fields)`. A named entry
//   (container, volume, env var, label, annotation) the live template has too (set by another
//   field manager, or by the same webhook earlier) becomes `NAME (not in the manifests, N
//   fields)` on both sides, `..., changed` on the next side when it differs; a key of the pod
//   spec or of a container on both sides stays (it is most often a server default). Server
//   defaults are not taken for admission: a default is already on the live object, and the keys
//   of a container that is new in the manifests are not looked into.

type Json = Record<string, unknown>;

const record = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
const isRecord = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export const HIDDEN = '(hidden)';
export const HIDDEN_CHANGED = '(hidden, value changed)';

export interface ShownTemplates {
  readonly live: unknown;
  readonly next: unknown;
}

/**
 * The templates the plan shows: as they are with `showValues`, else redacted (see above).
 * `live` is undefined for a StatefulSet that does not exist yet.
 */
export function shownTemplates(
  showValues: boolean,
  live: unknown,
  manifest: unknown,
  next: unknown,
): ShownTemplates {
  return showValues ? { live, next } : redactTemplates(live, manifest, next);
}

export function redactTemplates(live: unknown, manifest: unknown, next: unknown): ShownTemplates {
  const [liveMeta, nextMeta] = redactMetadata(
    record(live).metadata,
    record(manifest).metadata,
    record(next).metadata,
  );
  const [liveSpec, nextSpec] = redactPodSpec(record(live).spec, record(manifest).spec, record(next).spec);
  const rebuild = (template: unknown, metadata: unknown, spec: unknown) => {
    if (!isRecord(template)) return template;
    const out: Json = { ...template };
    if (template.metadata !== undefined) out.metadata = metadata;
    if (template.spec !== undefined) out.spec = spec;
    return out;
  };
  return { live: rebuild(live, liveMeta, liveSpec), next: rebuild(next, nextMeta, nextSpec) };
}

/** How many values an entry holds (every scalar, and every empty object or list, counts one). */
export function fieldCount(value: unknown): number {
  if (Array.isArray(value)) return value.length === 0 ? 1 : value.reduce((n, v) => n + fieldCount(v), 0);
  if (isRecord(value)) {
    const values = Object.values(value);
    return values.length === 0 ? 1 : values.reduce((n: number, v) => n + fieldCount(v), 0);
  }
  return 1;
}

const fields = (value: unknown) => {
  const n = fieldCount(value);
  return `${n} field${n === 1 ? '' : 's'}`;
};
const added = (name: string, value: unknown) => `${name} (added by admission, ${fields(value)})`.trim();
const notOurs = (name: string, value: unknown, changed: boolean) =>
  `${name} (not in the manifests, ${fields(value)}${changed ? ', changed' : ''})`.trim();

type Pair = [unknown, unknown];
/** Redacts a key's value on both sides; undefined: a plain value (summarised when not the manifests'). */
type Inner = (key: string, live: unknown, manifest: unknown, next: unknown) => Pair | undefined;

/**
 * Which keys of a map the manifests do not set are summarised (see the file comment): `all`
 * (labels and annotations, which defaulting never adds), `added` (the pod spec, a container
 * the live template has: a key on both sides may be a server default), `none` (a container the
 * live template has not: its server defaults would look added).
 */
type Summarise = 'all' | 'added' | 'none';

/**
 * A map (the pod spec, a container, labels, annotations) key by key. `inner` redacts the values
 * it knows the structure of, whoever set them; the other keys the manifests do not set are
 * summarised as `summarise` says.
 */
function redactMap(
  live: unknown,
  manifest: unknown,
  next: unknown,
  summarise: Summarise,
  inner: Inner,
): Pair {
  const l = record(live);
  const m = record(manifest);
  const n = record(next);
  const outLive: Json = {};
  const outNext: Json = {};
  for (const key of new Set([...Object.keys(l), ...Object.keys(n)])) {
    const structured = inner(key, l[key], m[key], n[key]);
    let [a, b] = structured ?? [l[key], n[key]];
    if (structured === undefined && summarise !== 'none' && !(key in m) && key in n) {
      if (!(key in l)) b = added('', b);
      else if (summarise === 'all') [a, b] = [notOurs('', a, false), notOurs('', b, !isDeepEqual(a, b))];
    }
    if (key in l) outLive[key] = a;
    if (key in n) outNext[key] = b;
  }
  return [isRecord(live) ? outLive : live, isRecord(next) ? outNext : next];
}

const plain: Inner = () => undefined;

function redactMetadata(live: unknown, manifest: unknown, next: unknown): Pair {
  // Admission never adds a label or an annotation by default, so these are looked into always.
  return redactMap(live, manifest, next, 'none', (key, l, m, n) =>
    key === 'labels' || key === 'annotations' ? redactMap(l, m, n, 'all', plain) : undefined,
  );
}

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'];
const NAMED_LISTS = [...CONTAINER_LISTS, 'volumes'];

function redactPodSpec(live: unknown, manifest: unknown, next: unknown): Pair {
  // The pod spec's own keys are looked into when the live template has them all defaulted.
  return redactMap(live, manifest, next, isRecord(live) ? 'added' : 'none', (key, l, m, n) => {
    if (!NAMED_LISTS.includes(key)) return undefined;
    const container = CONTAINER_LISTS.includes(key);
    return redactNamedList(l, m, n, (lc, mc, nc) => (container ? redactContainer(lc, mc, nc) : [lc, nc]));
  });
}

function redactContainer(live: unknown, manifest: unknown, next: unknown): Pair {
  return redactMap(live, manifest, next, isRecord(live) ? 'added' : 'none', (key, l, m, n) =>
    key === 'env' ? redactNamedList(l, m, n, redactEnvVar) : undefined,
  );
}

/** An env var: its value hidden on both sides; the next side says whether the live value differs. */
function redactEnvVar(live: unknown, _manifest: unknown, next: unknown): Pair {
  const hide = (v: unknown, shown: string): unknown =>
    isRecord(v) && 'value' in v ? { ...v, value: shown } : v;
  const changed = isRecord(live) && !('value' in live && isRecord(next) && live.value === next.value);
  return [hide(live, HIDDEN), hide(next, changed ? HIDDEN_CHANGED : HIDDEN)];
}

/**
 * A list of entries keyed by `name` (containers, volumes, env): an entry of the next side the
 * manifests do not name is summarised; the others are redacted by `inner`, with their
 * counterparts by name (undefined where a side has none).
 */
function redactNamedList(
  live: unknown,
  manifest: unknown,
  next: unknown,
  inner: (live: unknown, manifest: unknown, next: unknown) => Pair,
): Pair {
  const nameOf = (entry: unknown) => String(record(entry).name ?? '');
  const byName = (value: unknown) => new Map(list(value).map((e) => [nameOf(e), e]));
  const l = byName(live);
  const m = byName(manifest);
  const n = byName(next);
  const outLive = list(live).map((entry) => {
    const name = nameOf(entry);
    if (m.has(name) || !n.has(name)) return inner(entry, m.get(name), n.get(name))[0];
    return notOurs(name, entry, false);
  });
  const outNext = list(next).map((entry) => {
    const name = nameOf(entry);
    if (m.has(name)) return inner(l.get(name), m.get(name), entry)[1];
    const before = l.get(name);
    if (before !== undefined) return notOurs(name, entry, !isDeepEqual(before, entry));
    return added(name, entry);
  });
  return [Array.isArray(live) ? outLive : live, Array.isArray(next) ? outNext : next];
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => isDeepEqual(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && isDeepEqual(a[k], b[k]));
  }
  return false;
}
