// The Cluster port: what the runner needs from Kubernetes. The only implementation
// is src/adapters/kubernetes; tests run it against the real local control plane.
import type { CrashLogRead, CrashLogTarget } from '../engine/crash-log.ts';
import type { PodEvidence } from '../engine/diagnosis.ts';
import type { Observation, RevisionInfo } from '../engine/observation.ts';
import type { PodExec } from './exec.ts';
import type { HttpRequest, HttpResponse } from './http.ts';
import type { Jobs } from './job.ts';
import type { KubeObject } from './object.ts';

export interface StatefulSetRef {
  readonly namespace: string;
  readonly name: string;
}

export type { KubeObject } from './object.ts';

export interface ApplyOptions {
  /** Server-side dry-run: validate and default, change nothing. */
  readonly dryRun: boolean;
}

export interface WatchOptions {
  /** Watch the pods too (default true). */
  readonly pods?: boolean;
}

export interface Cluster {
  /** Current StatefulSet and its pods; undefined when the StatefulSet does not exist. */
  observe(ref: StatefulSetRef): Promise<Observation | undefined>;
  /**
   * Calls `onChange` with a fresh observation whenever the StatefulSet or one of its pods
   * changes (and once at the start), until `signal` aborts. Resumes by itself after
   * 410 Gone, idle timeouts and dropped connections. With `{ pods: false }` only the
   * StatefulSet is watched and observations carry no pods: for a wait on the controller's
   * status, which would otherwise list every pod first (4 MB at 1000 replicas).
   */
  watch(
    ref: StatefulSetRef,
    onChange: (observation: Observation) => void,
    signal: AbortSignal,
    options?: WatchOptions,
  ): Promise<void>;
  /** The live object a manifest object names (any kind), or undefined when it does not exist. */
  read(object: KubeObject): Promise<KubeObject | undefined>;
  /** Server-side apply, in order; returns the objects as the API server returned them. */
  apply(objects: readonly KubeObject[], options: ApplyOptions): Promise<KubeObject[]>;
  /**
   * Sets `spec.updateStrategy.rollingUpdate.partition` (and annotations, when given) in one
   * write; returns the StatefulSet's generation after it.
   */
  patchStatefulSet(ref: StatefulSetRef, change: StatefulSetChange): Promise<number>;
  /** Deletes one pod, only if its uid still matches (a precondition). */
  deletePod(ref: StatefulSetRef, pod: string, uid: string): Promise<void>;
  /** ControllerRevisions owned by the StatefulSet, by number ascending. */
  revisions(ref: StatefulSetRef): Promise<RevisionInfo[]>;
  /**
   * For a StatefulSet that does not exist: the pods and ControllerRevisions a deleted one left
   * behind (`kubectl delete statefulset --cascade=orphan`), found by `selector` and name.
   */
  orphans(ref: StatefulSetRef, selector: LabelSelector): Promise<Orphans>;
  /**
   * What the cluster says about stuck pods of the StatefulSet's namespace (conditions, containers,
   * Warning events, claims and their StorageClasses), for a diagnosis. Never throws for what it
   * may not read: it names that in the evidence. Optional: without it there is no diagnosis.
   */
  evidence?(ref: StatefulSetRef, pods: readonly string[]): Promise<PodEvidence[]>;
  /**
   * The last lines of a crashed container's log (bounded, see CRASH_LOG), with the run's secrets
   * masked: why it crashed, for a failed stage's report. Never throws: a refusal (RBAC `pods/log`
   * get) or an error is the answer. Optional: without it the report has no crash log.
   */
  crashLog?(ref: StatefulSetRef, target: CrashLogTarget): Promise<CrashLogRead>;
  /**
   * One HTTP request to a pod's port through the API server's pod proxy (an analysis check's
   * measurement: no retries). Throws HttpUnreachable when no answer came, and an error naming
   * the missing pods/proxy permission when RBAC refuses. Optional: without it such checks cannot run.
   */
  proxyPod?(ref: StatefulSetRef, pod: string, port: number, request: ProxyRequest): Promise<HttpResponse>;
  /** Whether this run may do `verb` on `resource` (`pods/proxy`, a subresource; `jobs.batch`, of a group) in `namespace`. */
  canI?(namespace: string, verb: string, resource: string): Promise<boolean>;
  /** A command in a pod's container (pods/exec). Optional: without it exec checks and hooks cannot run. */
  readonly exec?: PodExec['exec'];
  /** A Job run to its end and deleted (checks and hooks). Optional, like exec. */
  readonly runJob?: Jobs['runJob'];
  /** Jobs an earlier run left behind, deleted by label. */
  readonly removeJobs?: Jobs['removeJobs'];
}

/** A request through the pod proxy: `path` is the path on the pod, from `/`. */
export type ProxyRequest = Omit<HttpRequest, 'url'> & { readonly path: string };

export interface StatefulSetChange {
  readonly partition?: number;
  /** Annotations to set; null removes one. */
  readonly annotations?: Readonly<Record<string, string | null>>;
  /** Restore the pod template stored in this ControllerRevision (by name). */
  readonly templateFromRevision?: string;
  /**
   * With `templateFromRevision`: the change cause to record on that ControllerRevision too.
   * The controller reuses the revision rather than creating one, so this is how
   * `kubectl rollout history` comes to show the rollback.
   */
  readonly restoredRevisionCause?: string;
  /**
   * Marks on ControllerRevisions by name: why a revision failed its canary (so a later
   * rollback skips it), or null to clear the mark once it succeeded.
   */
  readonly revisionFailures?: Readonly<Record<string, string | null>>;
}

/** A manifest's `spec.selector`. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }[];
}

/** What a StatefulSet deleted with `--cascade=orphan` left running. */
export interface Orphans {
  /** Pods named `<statefulset>-<ordinal>` with no controller, and their revision label. */
  readonly pods: readonly { readonly name: string; readonly revision: string }[];
  /** ControllerRevisions named `<statefulset>-<hash>` with no controller, with their pod template. */
  readonly revisions: readonly (RevisionInfo & { readonly template: unknown })[];
}
