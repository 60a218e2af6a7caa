// Pod and StatefulSet health predicates, in the controller's own terms.
// Pure: every time is passed in.
import type { ContainerObservation, Observation, PodObservation } from './observation.ts';

/** Waiting reasons that will not fix themselves within a stage: fail at once, not at the timeout. */
const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'InvalidImageName',
]);

export interface HealthGate {
  /** How long a pod must stay Ready, in ms; the gate uses max(soak, minReadySeconds). */
  readonly soakMs: number;
  /** Container restarts tolerated per pod during the stage. */
  readonly maxRestarts: number;
}

export type PodHealth =
  | { readonly kind: 'healthy' }
  /** Not there yet; `soakEndsAt` is set when only the soak is missing. */
  | { readonly kind: 'waiting'; readonly why: string; readonly soakEndsAt: number | undefined }
  | {
      readonly kind: 'failed';
      readonly container: string | undefined;
      readonly reason: string;
      readonly why: string;
    };

export function restartsOf(pod: PodObservation): number {
  return pod.containers.reduce((sum, c) => sum + c.restartCount, 0);
}

function fatalContainer(pod: PodObservation): ContainerObservation | undefined {
  return pod.containers.find(
    (c) => c.waitingReason !== undefined && FATAL_WAITING_REASONS.has(c.waitingReason),
  );
}

/** What a pod is judged against at one moment of a stage. */
export interface PodGate {
  readonly targetRevision: string;
  readonly gate: HealthGate;
  readonly minReadySeconds: number;
  /** When this run first saw the pod Ready (continuously), or undefined. */
  readonly readySince: number | undefined;
  /** The pod's restart count when the stage began (0 for a pod created since). */
  readonly restartBaseline: number;
  readonly now: number;
}

/** Health of one pod at a stage. */
export function podHealth(pod: PodObservation, at: PodGate): PodHealth {
  const { targetRevision, gate, minReadySeconds, readySince, restartBaseline, now } = at;
  if (pod.revision !== targetRevision) {
    return {
      kind: 'waiting',
      why: `on revision ${pod.revision}, not yet ${targetRevision}`,
      soakEndsAt: undefined,
    };
  }
  if (pod.phase === 'Failed') {
    return { kind: 'failed', container: undefined, reason: 'PodFailed', why: 'pod phase is Failed' };
  }
  const fatal = fatalContainer(pod);
  if (fatal) {
    // The reason is reported on its own: the message says what it adds, once.
    return {
      kind: 'failed',
      container: fatal.name,
      reason: fatal.waitingReason ?? 'Unknown',
      why: fatal.waitingMessage || `container ${fatal.name} is waiting`,
    };
  }
  const restarts = restartsOf(pod) - restartBaseline;
  if (restarts > gate.maxRestarts) {
    const container = pod.containers.find((c) => c.restartCount > 0);
    const last = container?.lastTerminationReason ? ` (last exit: ${container.lastTerminationReason})` : '';
    return {
      kind: 'failed',
      container: container?.name,
      reason: 'TooManyRestarts',
      why: `restarted ${restarts} time(s) during the stage, more than max-restarts ${gate.maxRestarts}${last}`,
    };
  }
  if (pod.deleting) return { kind: 'waiting', why: 'being deleted', soakEndsAt: undefined };
  if (pod.phase !== 'Running')
    return { kind: 'waiting', why: `phase ${pod.phase}${waitingDetail(pod)}`, soakEndsAt: undefined };
  if (!pod.ready || readySince === undefined) {
    return { kind: 'waiting', why: `Running, not Ready${waitingDetail(pod)}`, soakEndsAt: undefined };
  }
  const soakEndsAt = readySince + Math.max(gate.soakMs, minReadySeconds * 1000);
  if (now < soakEndsAt) {
    return {
      kind: 'waiting',
      why: `Ready, soaking (${Math.ceil((soakEndsAt - now) / 1000)} s left)`,
      soakEndsAt,
    };
  }
  return { kind: 'healthy' };
}

function waitingDetail(pod: PodObservation): string {
  const waiting = pod.containers.find((c) => c.waitingReason !== undefined);
  return waiting ? ` (${waiting.name}: ${waiting.waitingReason})` : '';
}

/** The controller has seen the latest spec. */
export function generationObserved(observation: Observation): boolean {
  const sts = observation.statefulSet;
  return sts.observedGeneration >= sts.generation;
}

/**
 * What a progress line calls the revisions: `new`/`old` in a rollout; in a rollback, where the
 * target is the older one, `target`/`bad`, so neither reads as the opposite of what it is.
 */
export interface RevisionWords {
  readonly target: string;
  readonly other: string;
}

/** A short, stable description of a pod's state for progress logs (no timers in it). */
export function podStateLine(
  pod: PodObservation,
  targetRevision: string,
  words: RevisionWords = { target: 'new', other: 'old' },
): string {
  const revision = pod.revision === targetRevision ? words.target : words.other;
  const restarts = restartsOf(pod);
  const parts = [`${pod.name}: ${revision} revision (${pod.revision})`, pod.phase];
  if (pod.deleting) parts.push('terminating');
  else if (pod.phase === 'Running') parts.push(pod.ready ? 'Ready' : 'not Ready');
  const waiting = pod.containers.find((c) => c.waitingReason !== undefined);
  if (waiting) parts.push(`${waiting.name} ${waiting.waitingReason}`);
  if (restarts > 0) parts.push(`${restarts} restart(s)`);
  return parts.join(', ');
}
