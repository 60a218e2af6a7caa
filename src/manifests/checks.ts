// Validation of one parsed manifest document: the shape every Kubernetes object needs,
// and what a StatefulSet needs to be rolled out through its partition.

import type { KubeObject } from '../ports/cluster.ts';
import { ManifestError } from './error.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem, pathSegmentProblem, quote } from './names.ts';

type Json = Record<string, unknown>;

/** The largest int32, the API's limit for replicas, partitions and the like. */
export const INT32_MAX = 2 ** 31 - 1;
const API_VERSION = /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KIND = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * Built-in kinds that live outside namespaces: they get no metadata.namespace. Any other
 * kind, custom resources included, is taken as namespaced (without asking the API server's
 * discovery, which would mean touching the cluster); a cluster-scoped custom kind needs
 * adding here.
 */
const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'CustomResourceDefinition',
  'PriorityClass',
  'RuntimeClass',
  'IngressClass',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'CertificateSigningRequest',
  'FlowSchema',
  'PriorityLevelConfiguration',
]);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `StatefulSet prod/web`, or `ClusterRole view` for cluster-scoped objects. */
export function describe(object: KubeObject): string {
  const ns = object.metadata.namespace;
  return `${object.kind} ${ns ? `${ns}/` : ''}${object.metadata.name}`;
}

/** API group of an apiVersion: `apps` for `apps/v1`, '' for the core group's `v1`. */
function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** Lists nest at most this deep (a List of Lists of ...), against hostile input. */
const MAX_LIST_DEPTH = 8;

/**
 * The objects a document stands for: the document itself, or, for a list (`kind: List`, what
 * `kubectl get -o yaml` prints for several objects, or any `<Kind>List` with `items`), its
 * items, nested lists flattened, as kubectl does. Each item's source is
 * `path#document.items[i]`. Items are not checked here: checkObject does that.
 */
export function listItems(
  document: unknown,
  source: string,
  depth = 0,
): { readonly document: unknown; readonly source: string }[] {
  if (!isObject(document)) return [{ document, source }];
  const { kind, items } = document;
  if (typeof kind !== 'string' || !kind.endsWith('List')) return [{ document, source }];
  if (!Array.isArray(items)) {
    // `kind: List` is only ever a list; another `...List` without items may be a real kind.
    if (kind !== 'List') return [{ document, source }];
    throw new ManifestError(
      `${source}: kind List has no items list; write items: [...] or remove it`,
      source,
    );
  }
  if (depth >= MAX_LIST_DEPTH) {
    throw new ManifestError(`${source}: lists nested more than ${MAX_LIST_DEPTH} deep`, source);
  }
  return items.flatMap((item, i) => listItems(item, `${source}.items[${i}]`, depth + 1));
}

/** Checks the fields every object needs (apiVersion, kind, metadata.name) and returns it typed. */
export function checkObject(document: unknown, source: string): KubeObject {
  const fail = (problem: string) => new ManifestError(`${source}: ${problem}`, source);
  if (!isObject(document)) {
    const what = Array.isArray(document) ? 'a list' : `a ${typeof document} (${quote(String(document), 40)})`;
    throw fail(
      `the document is ${what}, not a Kubernetes object; each document must be a mapping with apiVersion, kind and metadata`,
    );
  }
  const { apiVersion, kind, metadata } = document;
  if (typeof apiVersion !== 'string' || !API_VERSION.test(apiVersion)) {
    throw fail(
      `apiVersion ${apiVersion === undefined ? 'is missing' : `${show(apiVersion)} is not valid`}; write e.g. apps/v1 or v1`,
    );
  }
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    throw fail(
      `kind ${kind === undefined ? 'is missing' : `${show(kind)} is not valid`}; write e.g. StatefulSet`,
    );
  }
  if (kind !== 'StatefulSet' && kind.toLowerCase() === 'statefulset') {
    throw fail(`kind ${quote(kind)} must be spelled StatefulSet`);
  }
  if (!isObject(metadata)) throw fail(`${kind} has no metadata; add metadata.name`);
  const { name, namespace } = metadata;
  if (typeof name === 'number' || typeof name === 'boolean') {
    throw fail(`${kind} metadata.name is the ${typeof name} ${name}; quote it: name: "${name}"`);
  }
  if (typeof name !== 'string' || name === '') {
    const hint =
      metadata.generateName !== undefined ? ' (generateName cannot be applied: give a fixed name)' : '';
    throw fail(`${kind} has no metadata.name${hint}; add one`);
  }
  const rbac = groupOf(apiVersion) === 'rbac.authorization.k8s.io';
  const nameProblem = (rbac ? pathSegmentProblem : dns1123SubdomainProblem)(name);
  if (nameProblem) throw fail(`${kind} metadata.name ${quote(name)} ${nameProblem}`);
  if (namespace !== undefined && namespace !== null) {
    const problem = typeof namespace === 'string' ? dns1123LabelProblem(namespace) : 'is not a string';
    if (problem) throw fail(`${kind} ${name} metadata.namespace ${show(namespace)} ${problem}`);
  }
  return document as unknown as KubeObject;
}

/**
 * Sets metadata.namespace: the override (the namespace input) wins, then the object's own,
 * then `defaultNamespace`; cluster-scoped kinds get none. Returns a copy.
 */
export function withNamespace(
  object: KubeObject,
  override: string | undefined,
  defaultNamespace: string,
): KubeObject {
  const { namespace: own, ...metadata } = object.metadata;
  if (CLUSTER_SCOPED_KINDS.has(object.kind)) return { ...object, metadata };
  const namespace = override ?? (typeof own === 'string' && own !== '' ? own : defaultNamespace);
  return { ...object, metadata: { ...metadata, namespace } };
}

/** What makes two documents the same object for the API server (the version does not). */
export function identity(object: KubeObject): string {
  return [
    groupOf(object.apiVersion),
    object.kind,
    object.metadata.namespace ?? '',
    object.metadata.name,
  ].join('/');
}

/** Checks a StatefulSet can be rolled out through its partition (namespace already resolved). */
export function checkStatefulSet(object: KubeObject, source: string): void {
  const fail: Fail = (problem, fix) =>
    new ManifestError(`${source} (${describe(object)}): ${problem}. Fix: ${fix}`, source);
  if (object.apiVersion !== 'apps/v1') {
    const apps = groupOf(object.apiVersion) === 'apps' || object.apiVersion.startsWith('extensions/');
    throw fail(
      `apiVersion is ${quote(object.apiVersion)}; only apps/v1 StatefulSets can be rolled out`,
      apps
        ? 'write apiVersion: apps/v1 (apps/v1beta1, apps/v1beta2 and extensions were removed in Kubernetes 1.16)'
        : 'roll out other StatefulSet-like kinds with their own tooling, or use apps/v1',
    );
  }
  const spec = object.spec;
  if (!isObject(spec)) throw fail('spec is missing', 'add spec with selector, serviceName and template');
  checkCount(spec.replicas, 'spec.replicas', fail);
  checkStrategy(spec.updateStrategy, fail);
  checkSelector(spec, fail);
}

type Fail = (problem: string, fix: string) => ManifestError;

/** replicas and partition: int32 >= 0, or unset (null is unset, as for the API server). */
function checkCount(value: unknown, field: string, fail: Fail): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'string') {
    throw fail(
      `${field} is the string ${quote(value)}`,
      `write a number without quotes, e.g. ${field.split('.').pop()}: 3`,
    );
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > INT32_MAX) {
    throw fail(`${field} is ${show(value)}`, `use a whole number from 0 to ${INT32_MAX}`);
  }
}

function checkStrategy(strategy: unknown, fail: Fail): void {
  if (strategy === undefined || strategy === null) return;
  if (!isObject(strategy))
    throw fail('spec.updateStrategy is not a mapping', 'write updateStrategy: {type: RollingUpdate}');
  const type = strategy.type;
  if (type === 'OnDelete') {
    throw fail(
      'spec.updateStrategy.type is OnDelete, so the controller never updates pods by itself and a canary cannot be staged',
      'use type: RollingUpdate (the action manages the partition)',
    );
  }
  if (type !== undefined && type !== null && type !== 'RollingUpdate') {
    throw fail(
      `spec.updateStrategy.type ${show(type)} is not RollingUpdate or OnDelete`,
      'use type: RollingUpdate',
    );
  }
  const rolling = strategy.rollingUpdate;
  if (rolling === undefined || rolling === null) return;
  if (!isObject(rolling))
    throw fail('spec.updateStrategy.rollingUpdate is not a mapping', 'remove it or write {partition: 0}');
  // A partition in the manifest is accepted but not used: the action sets it at every stage.
  checkCount(rolling.partition, 'spec.updateStrategy.rollingUpdate.partition', fail);
}

/** The API server rejects a selector that does not select the pod template; say so before applying. */
function checkSelector(spec: Json, fail: Fail): void {
  const selector = spec.selector;
  const fix = 'make spec.selector.matchLabels a subset of spec.template.metadata.labels';
  if (!isObject(selector)) throw fail('spec.selector is missing (apps/v1 requires it)', fix);
  const template = spec.template;
  if (!isObject(template)) throw fail('spec.template is missing', 'add the pod template');
  const rawLabels = isObject(template.metadata) ? template.metadata.labels : undefined;
  const labels: Json = isObject(rawLabels) ? rawLabels : {};
  const matchLabels = selector.matchLabels ?? {};
  const expressions = selector.matchExpressions ?? [];
  if (!isObject(matchLabels)) throw fail('spec.selector.matchLabels is not a mapping', fix);
  if (!Array.isArray(expressions)) throw fail('spec.selector.matchExpressions is not a list', fix);
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) {
    throw fail('spec.selector is empty, which would select every pod in the namespace', fix);
  }
  for (const [key, value] of Object.entries(matchLabels)) {
    if (labels[key] !== value) {
      throw fail(
        `spec.selector.matchLabels ${key}=${show(value)} does not match the template label ${key}=${show(labels[key])}`,
        fix,
      );
    }
  }
  for (const [index, expression] of expressions.entries()) {
    const problem = expressionProblem(expression, labels);
    if (problem)
      throw fail(
        `spec.selector.matchExpressions[${index}] ${problem}`,
        'make the pod template labels satisfy the selector',
      );
  }
}

function expressionProblem(expression: unknown, labels: Json): string | undefined {
  if (!isObject(expression) || typeof expression.key !== 'string') return 'is not {key, operator, values}';
  const { key, operator } = expression;
  const values = Array.isArray(expression.values) ? expression.values : [];
  const has = Object.hasOwn(labels, key);
  const selected = (() => {
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key]);
      case 'NotIn':
        return !has || !values.includes(labels[key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return undefined;
    }
  })();
  if (selected === undefined) return `has operator ${show(operator)}; use In, NotIn, Exists or DoesNotExist`;
  return selected
    ? undefined
    : `(${key} ${String(operator)} ${JSON.stringify(values)}) does not select the pod template`;
}

function show(value: unknown): string {
  if (typeof value === 'string') return quote(value, 60);
  if (value === undefined) return '(unset)';
  return JSON.stringify(value)?.slice(0, 60) ?? String(value);
}
