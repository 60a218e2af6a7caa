// The plan of a change, before it merges: what a rollout would do to each StatefulSet (the
// template diff against the live one, the stages, the warnings) and to the other objects. Data
// only, built by src/runner/commands/plan.ts and rendered by the adapters. The helpers here are pure.
import type { ImageChange } from './report.ts';

interface PlanStage {
  readonly stage: number;
  readonly partition: number;
  /** Real ordinals of the pods this stage restarts on the new revision, highest first. */
  readonly ordinals: readonly number[];
}

export interface PlanWarning {
  readonly what: string;
  readonly fix: string;
}

export interface SpecChange {
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

export interface StatefulSetPlan {
  readonly namespace: string;
  readonly name: string;
  /** `new`: created, no canary; `change`: a template change, staged; `no-change`: the template is live. */
  readonly kind: 'new' | 'change' | 'no-change';
  readonly replicas: number;
  readonly images: readonly ImageChange[];
  /** A unified diff of the pod template, live -> manifests, both as the API server defaults them. */
  readonly templateDiff: string;
  /** Spec fields other than the template that change (replicas, minReadySeconds, ...). */
  readonly specChanges: readonly SpecChange[];
  readonly stages: readonly PlanStage[];
  readonly soakMs: number;
  /** The analysis checks gating each stage, one line each (what, threshold, rounds, stages). */
  readonly analysis: readonly string[];
  /** The hooks, one line each (what, on which events). */
  readonly hooks?: readonly string[];
  /** Where the primary is, and the switchovers (or the pause) the stages will make. */
  readonly primary?: {
    readonly finder: string;
    readonly pod: string | undefined;
    readonly moves: readonly string[];
  };
  readonly pauseAfter: 'each' | readonly number[];
  /** How many pods the controller may replace at once within a stage (maxUnavailable, as the API server keeps it), when above 1: `at most 2 pods down at once (...)`. */
  readonly maxUnavailable: string | undefined;
  readonly warnings: readonly PlanWarning[];
}

export interface OtherObjectPlan {
  /** `ConfigMap shop/web-config` */
  readonly object: string;
  readonly change: 'created' | 'changed' | 'unchanged';
}

export interface PlanReport {
  /** Kube context name (part of the plan comment's marker). */
  readonly context: string;
  /** Why the API server (or a check before it) refused the manifests: a merge would fail the same way. */
  readonly refusal: string | undefined;
  /** `namespace/name` of every StatefulSet in the manifests, in file order (also when refused). */
  readonly targets: readonly string[];
  readonly statefulSets: readonly StatefulSetPlan[];
  readonly others: readonly OtherObjectPlan[];
  /** With `waves` or `clusters`: the waves in the order they run, each `context/namespace/name`. */
  readonly order?: readonly PlanWave[];
}

export interface PlanWave {
  readonly name: string;
  readonly members: readonly string[];
}

type Json = Record<string, unknown>;

const record = (value: unknown): Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};

/** Fields the API server sets that say nothing about a change. */
const SERVER_META = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'selfLink',
];

/** An object as its change should be compared: no status, no server-set metadata, no `$patch`. */
export function normalized(object: unknown): Json {
  const { status: _status, metadata, ...rest } = record(object);
  const meta = { ...record(metadata) };
  for (const key of SERVER_META) delete meta[key];
  return { ...rest, metadata: meta };
}

/** Spec fields, other than the template and the partition this action owns, that differ. */
export function specChanges(live: unknown, next: unknown): SpecChange[] {
  const a = { ...record(record(live).spec) };
  const b = { ...record(record(next).spec) };
  for (const spec of [a, b]) {
    delete spec.template;
    const strategy = record(spec.updateStrategy);
    const rolling = { ...record(strategy.rollingUpdate) };
    delete rolling.partition;
    spec.updateStrategy = { ...strategy, rollingUpdate: rolling };
  }
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((field) => ({ field: `spec.${field}`, from: show(a[field]), to: show(b[field]) }));
}

/** Field managers that own a field under `path` (e.g. ['f:spec', 'f:template']), from managedFields. */
export function managersOf(object: unknown, path: readonly string[]): string[] {
  const entries = record(record(object).metadata).managedFields;
  const owners = new Set<string>();
  for (const entry of Array.isArray(entries) ? entries : []) {
    let node: unknown = record(entry).fieldsV1;
    for (const key of path) node = node === undefined ? undefined : record(node)[key];
    const manager = record(entry).manager;
    if (node !== undefined && typeof manager === 'string') owners.add(manager);
  }
  return [...owners];
}
