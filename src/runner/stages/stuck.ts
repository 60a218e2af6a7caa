// Finds out why a stage's pods are stuck: once a pod of the stage has not been Ready for the
// grace period, and whenever a stage fails, it reads what the cluster says about it (through the
// Cluster port's evidence) and turns that into one line per pod. Nothing is read while every pod
// is Ready, so a healthy rollout costs no request more.
import type { CrashLog } from '../../engine/crash-log.ts';
import {
  diagnose,
  diagnosisLine,
  FATAL_CAUSES,
  type FatalCause,
  type PodDiagnosis,
  type PodEvidence,
} from '../../engine/diagnosis.ts';
import type { Observation, PodObservation } from '../../engine/observation.ts';
import type { StagedSpec, StageFailure, StageProgress } from '../../engine/stage.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import type { Log } from '../../ports/log.ts';
import { readCrashLogs } from './crash-logs.ts';

/** How often the evidence of pods still stuck is read again. */
const REFRESH_MS = 15_000;

export interface StuckReport {
  readonly lines: readonly string[];
  /** A pod whose cause cannot resolve within the stage (see FATAL_CAUSES), if any. */
  readonly fatal: PodDiagnosis | undefined;
  /** A failed stage's crashed containers' last log lines (explain only). */
  readonly crashLogs?: readonly CrashLog[];
}

export class StuckPods {
  /** When this run first saw each pod (by uid) not Ready on its current stage. */
  private readonly notReadySince = new Map<string, number>();
  private readAt = Number.NEGATIVE_INFINITY;
  private readFor = '';
  private lines: readonly string[] = [];
  /** The latest observation, for pods whose evidence could not be read. */
  private observed: Observation | undefined;
  private readonly deps: { readonly cluster: Cluster; readonly clock: Clock; readonly log: Log };
  private readonly ref: StatefulSetRef;
  private readonly graceMs: number;
  /** Whether stuck pods were last reported (so their end is reported too). */
  private shown = false;

  constructor(deps: { cluster: Cluster; clock: Clock; log: Log }, ref: StatefulSetRef, graceMs: number) {
    this.deps = deps;
    this.ref = ref;
    this.graceMs = graceMs;
  }

  /** Pods of the stage in progress that are not Ready. */
  private unready(spec: StagedSpec, state: StageProgress, observation: Observation): PodObservation[] {
    const partition = spec.partitions[state.stage] ?? 0;
    return observation.pods.filter((p) => (spec.gateAll || p.index >= partition) && !p.ready);
  }

  /** When the next check is due (the earliest grace end), for the driver's timer. */
  nextCheckAt(spec: StagedSpec, state: StageProgress, observation: Observation): number {
    const now = this.deps.clock.now();
    let next = Number.POSITIVE_INFINITY;
    if (!this.deps.cluster.evidence) return next;
    for (const pod of this.unready(spec, state, observation)) {
      const since = Math.max(this.notReadySince.get(pod.uid) ?? now, state.startedAt);
      const due = since + this.graceMs;
      next = Math.min(next, due > now ? due : this.readAt + REFRESH_MS);
    }
    // Never in the past: a wake-up that is already due would spin.
    return Math.max(next, now + 1);
  }

  /** Reads and logs the diagnosis of pods stuck past the grace period; undefined when none is. */
  async check(
    spec: StagedSpec,
    state: StageProgress,
    observation: Observation,
  ): Promise<StuckReport | undefined> {
    const now = this.deps.clock.now();
    this.observed = observation;
    const unready = this.unready(spec, state, observation);
    const uids = new Set(unready.map((p) => p.uid));
    for (const uid of this.notReadySince.keys()) if (!uids.has(uid)) this.notReadySince.delete(uid);
    for (const pod of unready) if (!this.notReadySince.has(pod.uid)) this.notReadySince.set(pod.uid, now);
    const stuck = unready.filter(
      (p) => now - Math.max(this.notReadySince.get(p.uid) ?? now, state.startedAt) >= this.graceMs,
    );
    if (stuck.length === 0) {
      this.lines = [];
      return undefined;
    }
    const key = stuck.map((p) => `${p.uid}/${p.phase}`).join(',');
    if (key === this.readFor && now - this.readAt < REFRESH_MS)
      return { lines: this.lines, fatal: undefined };
    return this.read(
      stuck.map((p) => p.name),
      key,
    );
  }

  /**
   * The diagnosis of these pods now, whatever the grace (a failed stage), with the crash logs of
   * the failed pod (and container) and other crashed ones.
   */
  async explain(
    pods: readonly string[],
    observation: Observation,
    failed: { readonly pod: string; readonly container: string | undefined },
  ): Promise<StuckReport> {
    this.observed = observation;
    return this.read(pods, '', failed);
  }

  /**
   * The stuck pods of a waiting stage: reported through `onStuck` (empty once none is); the
   * stage's failure when waiting cannot help.
   */
  async whileWaiting(
    spec: StagedSpec,
    state: StageProgress,
    observation: Observation,
    onStuck: (stage: number, lines: readonly string[], at: number) => void,
  ): Promise<StageFailure | undefined> {
    const report = await this.check(spec, state, observation);
    if (report === undefined) {
      if (this.shown) onStuck(state.stage + 1, [], this.deps.clock.now());
      this.shown = false;
      return undefined;
    }
    this.shown = true;
    onStuck(state.stage + 1, report.lines, this.deps.clock.now());
    return fatalFailure(report, state.stage + 1);
  }

  /** A failed stage with why its pods were stuck, when it is about pods. */
  async explainFailure(
    spec: StagedSpec,
    failure: StageFailure,
    state: StageProgress,
    observation: Observation,
  ): Promise<StageFailure> {
    const partition = spec.partitions[state.stage] ?? 0;
    const unready = observation.pods
      .filter((p) => (spec.gateAll || p.index >= partition) && (!p.ready || p.name === failure.pod))
      .map((p) => p.name);
    const pods = failure.pod && !unready.includes(failure.pod) ? [failure.pod, ...unready] : unready;
    if (pods.length === 0 || (failure.pod === '' && failure.reason !== 'StageTimeout')) return failure;
    const { lines, crashLogs } = await this.explain(pods, observation, failure);
    return {
      ...failure,
      ...(lines.length ? { diagnosis: lines } : {}),
      ...(crashLogs?.length ? { crashLogs } : {}),
    };
  }

  private async read(
    pods: readonly string[],
    key: string,
    failed?: { readonly pod: string; readonly container: string | undefined },
  ): Promise<StuckReport> {
    const { clock, log } = this.deps;
    this.readAt = clock.now();
    this.readFor = key;
    const evidence = await readEvidence(this.deps, this.ref, pods, this.observed);
    if (evidence === undefined) return { lines: this.lines, fatal: undefined };
    const diagnoses = evidence.map(diagnose);
    const now = clock.now();
    this.readAt = now;
    this.readFor = key;
    const lines = diagnoses.map((d) => diagnosisLine(d, now));
    const changed = lines.join('\n') !== this.lines.join('\n');
    this.lines = lines;
    if (changed) for (const line of lines) log.info(`Stuck: ${line}`);
    const fatal = diagnoses.find((d) => d.fatal !== undefined);
    if (!failed) return { lines, fatal };
    const crashLogs = await readCrashLogs(this.deps, this.ref, evidence, failed);
    return { lines, fatal, ...(crashLogs.length ? { crashLogs } : {}) };
  }
}

/** The failure of `stage` (1-based) when the report names a cause waiting cannot fix; else undefined. */
function fatalFailure(report: StuckReport, stage: number): StageFailure | undefined {
  const fatal = report.fatal;
  if (!fatal?.fatal) return undefined;
  const reason = fatal.fatal as FatalCause;
  return {
    stage,
    pod: fatal.pod,
    container: undefined,
    reason,
    message: `waiting cannot help: ${FATAL_CAUSES[reason] ?? fatal.cause}`,
    terminationMessage: undefined,
    diagnosis: report.lines,
  };
}

/** Evidence from an observation, for a pod the cluster would not let us read. */
function fromObservation(evidence: PodEvidence, observed: Observation | undefined): PodEvidence {
  const pod = observed?.pods.find((p) => p.name === evidence.pod);
  if (!pod) return { ...evidence, phase: 'Unknown' };
  const containers = pod.containers.map((c) => ({
    name: c.name,
    ready: c.ready,
    waitingReason: c.waitingReason,
    waitingMessage: c.waitingMessage,
    lastTermination: c.lastTerminationReason
      ? { reason: c.lastTerminationReason, exitCode: 1, message: c.lastTerminationMessage }
      : undefined,
  }));
  return { ...evidence, phase: pod.phase, deleting: pod.deleting, containers };
}

/**
 * Why these pods are where they are, from what the cluster says about them; undefined when it
 * could not be read at all (a diagnosis never stops a run: the reason is logged at debug).
 */
export async function diagnosePods(
  deps: { readonly cluster: Cluster; readonly log: Log },
  ref: StatefulSetRef,
  pods: readonly string[],
  observed: Observation | undefined,
): Promise<PodDiagnosis[] | undefined> {
  return (await readEvidence(deps, ref, pods, observed))?.map(diagnose);
}

/** What the cluster says about these pods (the observation fills in pods it would not let us read). */
async function readEvidence(
  deps: { readonly cluster: Cluster; readonly log: Log },
  ref: StatefulSetRef,
  pods: readonly string[],
  observed: Observation | undefined,
): Promise<PodEvidence[] | undefined> {
  const { cluster, log } = deps;
  if (!cluster.evidence || pods.length === 0) return [];
  try {
    const evidence = await cluster.evidence(ref, pods);
    return evidence.map((e) => (e.phase === '' ? fromObservation(e, observed) : e));
  } catch (error) {
    log.debug(
      `could not read why ${pods.join(', ')} are stuck: ${error instanceof Error ? error.message : error}`,
    );
    return undefined;
  }
}
