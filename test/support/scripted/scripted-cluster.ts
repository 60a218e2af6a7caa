// A scripted, in-memory Cluster port for runner unit tests: a test double of our own port,
// not of the Kubernetes API. It holds one StatefulSet observation and its pods, records every
// write in order (stamped with the clock's time), stores what a write says (partition,
// annotations, template, replicas, a deleted pod gone), and replays the test's script of
// what the "controller" does in reply. It does not compute revisions, replace pods or
// count generations by itself: the script says all of that. Kubernetes behaviour is tested
// on the real control plane (test/integration).

import type { Observation, RevisionInfo, StatefulSetObservation } from '../../../src/engine/observation.ts';
import type { Clock } from '../../../src/ports/clock.ts';
import type {
  ApplyOptions,
  Cluster,
  KubeObject,
  ProxyRequest,
  StatefulSetChange,
  StatefulSetRef,
  WatchOptions,
} from '../../../src/ports/cluster.ts';
import { type ExecRequest, type ExecResult, ExecUnreachable } from '../../../src/ports/exec.ts';
import { type HttpResponse, HttpUnreachable } from '../../../src/ports/http.ts';
import type { JobOutcome, JobRequest } from '../../../src/ports/job.ts';
import { type Change, type Reaction, specOf, type Write } from './cluster-script.ts';
import { imagesOf, statefulSet } from './observations.ts';

/**
 * What the port's patchStatefulSet resolves to: the generation after the write where the port
 * returns it, nothing where it does not, so this double fits the port on either side of that change.
 */
type PatchResult = Awaited<ReturnType<Cluster['patchStatefulSet']>>;

export class ScriptedCluster implements Cluster {
  /** Every write, in order. */
  readonly writes: Write[] = [];
  private state: Observation | undefined;
  private readonly script: Reaction[] = [];
  private readonly listeners = new Set<(observation: Observation) => void>();
  private readonly writeWaiters: { predicate: (w: Write) => boolean; resolve: (w: Write) => void }[] = [];
  private readonly history: number[] = [];
  private readonly clock: Clock;
  private readonly revisionList: RevisionInfo[];
  private version = 1;
  /** Answers requests through the pod proxy (analysis checks); unset: the pod does not answer. */
  proxy: ((pod: string, port: number, request: ProxyRequest) => Promise<HttpResponse>) | undefined;
  /** Every request through the pod proxy, with the clock time it was sent. */
  readonly proxied: {
    readonly pod: string;
    readonly port: number;
    readonly path: string;
    readonly at: number;
  }[] = [];

  /** Answers commands in pods (exec checks, hooks, switchovers); unset: no answer. */
  execAnswer: ((request: ExecRequest) => Promise<ExecResult> | ExecResult) | undefined;
  /** Every command run in a pod, with the clock time it was sent. */
  readonly execs: { readonly pod: string; readonly command: readonly string[]; readonly at: number }[] = [];
  /** Runs Jobs (Job checks and hooks); unset: every Job completes at once. */
  jobAnswer: ((request: JobRequest) => Promise<JobOutcome> | JobOutcome) | undefined;
  /** Every Job created, with the clock time. */
  readonly jobs: { readonly request: JobRequest; readonly at: number }[] = [];

  constructor(options: { clock: Clock; initial?: Observation; revisions?: RevisionInfo[] }) {
    this.clock = options.clock;
    this.state = options.initial && recount(options.initial, {});
    this.revisionList = options.revisions ?? [];
    if (this.state) this.history.push(this.state.statefulSet.partition);
  }

  /** Appends steps to the script; each is replayed once, in order, after the first write it matches. */
  play(...reactions: Reaction[]): void {
    this.script.push(...reactions);
  }

  /** Steps of the script not replayed yet. */
  unplayed(): string[] {
    return this.script.map((r) => r.description);
  }

  /** Changes the state as the controller or someone else would between writes; watchers see it. */
  change(change: Change | ((current: Observation) => Change)): void {
    const current = this.state;
    if (!current) throw new Error('ScriptedCluster: no StatefulSet to change');
    this.publish(apply(current, typeof change === 'function' ? change(structuredClone(current)) : change));
  }

  /** The current observation (a copy), or undefined when there is no StatefulSet. */
  current(): Observation | undefined {
    return this.state && structuredClone(this.state);
  }

  /** Every partition the StatefulSet had, in order, without repeats (as a watch would record them). */
  partitions(): number[] {
    return [...this.history];
  }

  /**
   * Resolves with the first write (already made or still to come) that `predicate` accepts,
   * looking only at writes from index `since` on (e.g. `writes.length` before a second run).
   */
  written(predicate: (write: Write) => boolean, since = 0): Promise<Write> {
    const done = this.writes.slice(since).find(predicate);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => this.writeWaiters.push({ predicate, resolve }));
  }

  // The Cluster port.

  async observe(ref: StatefulSetRef): Promise<Observation | undefined> {
    this.check(ref);
    return this.current();
  }

  watch(
    ref: StatefulSetRef,
    onChange: (o: Observation) => void,
    signal: AbortSignal,
    options?: WatchOptions,
  ): Promise<void> {
    this.check(ref);
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = (o: Observation) => onChange(options?.pods === false ? { ...o, pods: [] } : o);
      this.listeners.add(listener);
      signal.addEventListener(
        'abort',
        () => {
          this.listeners.delete(listener);
          resolve();
        },
        { once: true },
      );
      if (this.state) this.deliver(listener, this.state);
    });
  }

  async apply(objects: readonly KubeObject[], options: ApplyOptions): Promise<KubeObject[]> {
    const copies = structuredClone([...objects]);
    const write: Write = { kind: 'apply', at: this.clock.now(), dryRun: options.dryRun, objects: copies };
    if (options.dryRun) {
      this.record(write);
      return structuredClone(copies);
    }
    const sts = copies.find((o) => o.kind === 'StatefulSet');
    if (sts) this.check(refOfObject(sts));
    this.afterWrite(write, sts ? (current) => storeApplied(current, sts) : undefined);
    return structuredClone(copies);
  }

  /** Resolves to the generation after the write (the script's to change, like observedGeneration). */
  async patchStatefulSet(ref: StatefulSetRef, change: StatefulSetChange): Promise<PatchResult> {
    this.check(ref);
    const write: Write = { kind: 'patch', at: this.clock.now(), change: structuredClone(change) };
    this.afterWrite(write, (current) => storePatch(current, change));
    return (this.state?.statefulSet.generation ?? 0) as unknown as PatchResult;
  }

  async proxyPod(
    _ref: StatefulSetRef,
    pod: string,
    port: number,
    request: ProxyRequest,
  ): Promise<HttpResponse> {
    this.proxied.push({ pod, port, path: request.path, at: this.clock.now() });
    if (!this.proxy) throw new HttpUnreachable('connection refused');
    return this.proxy(pod, port, request);
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    this.execs.push({ pod: request.pod, command: [...request.command], at: this.clock.now() });
    if (!this.execAnswer) throw new ExecUnreachable(`no answer from ${request.pod}`);
    return this.execAnswer(request);
  }

  async runJob(request: JobRequest): Promise<JobOutcome> {
    this.jobs.push({ request: structuredClone(request), at: this.clock.now() });
    const name = `${request.namePrefix}-${this.jobs.length}`;
    if (!this.jobAnswer) return { kind: 'complete', name, message: '', log: '' };
    return this.jobAnswer(request);
  }

  /** Jobs an earlier run left, by name, returned (and forgotten) by the first removeJobs. */
  leftoverJobs: string[] = [];
  /** Every removeJobs call: its namespace and labels. */
  readonly jobRemovals: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> }[] =
    [];

  async removeJobs(namespace: string, labels: Readonly<Record<string, string>>): Promise<string[]> {
    this.jobRemovals.push({ namespace, labels: { ...labels } });
    const removed = this.leftoverJobs;
    this.leftoverJobs = [];
    return removed;
  }

  async deletePod(ref: StatefulSetRef, name: string, uid: string): Promise<void> {
    this.check(ref);
    const found = this.state?.pods.find((p) => p.name === name);
    if (!found || found.uid !== uid) {
      throw new Error(`ScriptedCluster: pod ${name} with uid ${uid} not found (precondition failed)`);
    }
    const write: Write = { kind: 'delete-pod', at: this.clock.now(), pod: name, uid };
    this.afterWrite(write, () => ({ removePods: [found.ordinal] }));
  }

  async revisions(ref: StatefulSetRef): Promise<RevisionInfo[]> {
    this.check(ref);
    return structuredClone(this.revisionList);
  }

  /** Other objects are not scripted: none exists (the runner reads them only for `plan`). */
  async read(_object: KubeObject): Promise<KubeObject | undefined> {
    return undefined;
  }

  /** Nothing left behind by a deleted StatefulSet: these tests do not script orphans. */
  async orphans(ref: StatefulSetRef, _selector: unknown): Promise<{ pods: never[]; revisions: never[] }> {
    this.check(ref);
    return { pods: [], revisions: [] };
  }

  // Internals.

  private afterWrite(write: Write, stored: ((current: Observation) => Change) | undefined): void {
    this.record(write);
    let next = this.state ?? (stored ? empty() : undefined);
    if (!next) return;
    if (stored) next = apply(next, stored(next));
    const head = this.script[0];
    const replied = head?.matches(write) === true;
    if (head && replied) {
      this.script.shift();
      next = apply(
        next,
        typeof head.reply === 'function' ? head.reply(structuredClone(next), write) : head.reply,
      );
    }
    // A write that touches neither the StatefulSet nor its pods (a ConfigMap's apply) is no event.
    if (stored || replied) this.publish(next);
  }

  private publish(next: Observation): void {
    this.version++;
    const sts = { ...next.statefulSet, resourceVersion: String(this.version) };
    this.state = { ...next, statefulSet: sts };
    if (this.history.at(-1) !== sts.partition) this.history.push(sts.partition);
    for (const listener of this.listeners) this.deliver(listener, this.state);
  }

  /** Delivers a snapshot after the write returns, as a watch event would arrive. */
  private deliver(listener: (o: Observation) => void, state: Observation): void {
    const snapshot = structuredClone(state);
    queueMicrotask(() => {
      if (this.listeners.has(listener)) listener(snapshot);
    });
  }

  private record(write: Write): void {
    this.writes.push(write);
    for (const waiter of [...this.writeWaiters]) {
      if (!waiter.predicate(write)) continue;
      this.writeWaiters.splice(this.writeWaiters.indexOf(waiter), 1);
      waiter.resolve(write);
    }
  }

  private check(ref: StatefulSetRef): void {
    const sts = this.state?.statefulSet ?? { namespace: ref.namespace, name: ref.name };
    if (ref.namespace !== sts.namespace || ref.name !== sts.name) {
      throw new Error(`ScriptedCluster holds ${sts.namespace}/${sts.name}, not ${ref.namespace}/${ref.name}`);
    }
  }
}

function refOfObject(object: KubeObject): StatefulSetRef {
  return { namespace: object.metadata.namespace ?? 'default', name: object.metadata.name };
}

/** What an apply stores: the spec fields it sends, and its annotations merged in. */
function storeApplied(current: Observation, object: KubeObject): Change {
  const spec = specOf(object);
  const annotations = (object.metadata.annotations ?? {}) as Record<string, string>;
  return {
    statefulSet: {
      namespace: object.metadata.namespace ?? 'default',
      name: object.metadata.name,
      replicas: spec.replicas ?? 1,
      minReadySeconds: spec.minReadySeconds ?? 0,
      partition: spec.updateStrategy?.rollingUpdate?.partition ?? 0,
      template: structuredClone(spec.template),
      images: imagesOf(spec.template),
      annotations: { ...current.statefulSet.annotations, ...annotations },
    },
  };
}

/** What a patch stores: the partition and annotations (null removes). A restored template is the script's to show. */
function storePatch(current: Observation, change: StatefulSetChange): Change {
  const annotations: Record<string, string> = { ...current.statefulSet.annotations };
  for (const [key, value] of Object.entries(change.annotations ?? {})) {
    if (value === null) delete annotations[key];
    else annotations[key] = value;
  }
  return {
    statefulSet: {
      annotations,
      ...(change.partition === undefined ? {} : { partition: change.partition }),
    },
  };
}

function apply(current: Observation, change: Change): Observation {
  const byOrdinal = new Map(current.pods.map((p) => [p.ordinal, p]));
  for (const ordinal of change.removePods ?? []) byOrdinal.delete(ordinal);
  for (const p of change.pods ?? []) byOrdinal.set(p.ordinal, p);
  const pods = [...byOrdinal.values()].sort((a, b) => a.ordinal - b.ordinal);
  return recount(
    { statefulSet: { ...current.statefulSet, ...change.statefulSet }, pods },
    change.statefulSet,
  );
}

/** The replica counts the controller reports for these pods, unless the change sets them itself. */
function recount(o: Observation, pinned: Partial<StatefulSetObservation> | undefined): Observation {
  const ready = o.pods.filter((p) => p.ready && !p.deleting).length;
  const updated = o.pods.filter((p) => p.revision === o.statefulSet.updateRevision).length;
  const counts = { readyReplicas: ready, updatedReplicas: updated, availableReplicas: ready };
  return { ...o, statefulSet: { ...o.statefulSet, ...counts, ...pick(pinned) } };
}

function pick(pinned: Partial<StatefulSetObservation> | undefined): Partial<StatefulSetObservation> {
  const out: { -readonly [K in keyof StatefulSetObservation]?: StatefulSetObservation[K] } = {};
  if (pinned?.readyReplicas !== undefined) out.readyReplicas = pinned.readyReplicas;
  if (pinned?.updatedReplicas !== undefined) out.updatedReplicas = pinned.updatedReplicas;
  if (pinned?.availableReplicas !== undefined) out.availableReplicas = pinned.availableReplicas;
  return out;
}

/** A StatefulSet that does not exist yet, for an apply that creates it; the script gives it revisions. */
function empty(): Observation {
  return { statefulSet: statefulSet({ replicas: 0, currentRevision: '' }), pods: [] };
}
