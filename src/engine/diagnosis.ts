// Why a pod is stuck: one line from what the cluster says about it (its conditions, its
// containers, its Warning events, its PersistentVolumeClaims). Pure: the adapter gathers the
// evidence, every time is passed in.

/** One Warning event, as `kubectl describe` lists it. */
export interface EventEvidence {
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  /** When it last happened (ms since the epoch), if the event says. */
  readonly lastSeen: number | undefined;
}

interface ConditionEvidence {
  readonly type: string;
  readonly status: string;
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly since: number | undefined;
}

export interface ContainerEvidence {
  readonly name: string;
  readonly ready: boolean;
  readonly waitingReason: string | undefined;
  readonly waitingMessage: string | undefined;
  /** `lastState.terminated`: why the previous instance ended. */
  readonly lastTermination:
    | { readonly reason: string | undefined; readonly exitCode: number; readonly message: string | undefined }
    | undefined;
  /** `restartCount`, when read (the crash log: which containers restarted). */
  readonly restartCount?: number;
  /** `state.terminated`: the container has stopped and not been restarted yet. */
  readonly terminated?: { readonly reason: string | undefined; readonly exitCode: number } | undefined;
}

export interface ClaimEvidence {
  readonly name: string;
  /** `status.phase`; undefined when the claim does not exist (or could not be read). */
  readonly phase: string | undefined;
  readonly storageClass: string | undefined;
  /** Whether that StorageClass exists; undefined when unknown (no class, or not readable). */
  readonly storageClassExists: boolean | undefined;
  /**
   * Read only for a class that does not exist: whether PersistentVolumes of that class exist
   * (static provisioning names a class with no StorageClass object); undefined when unknown.
   */
  readonly staticVolumes?: boolean | undefined;
  readonly events: readonly EventEvidence[];
}

/** Everything read about one pod; `unreadable` names what RBAC (or the server) did not let us read. */
export interface PodEvidence {
  readonly pod: string;
  readonly phase: string;
  readonly createdAt: number | undefined;
  readonly deleting: boolean;
  readonly conditions: readonly ConditionEvidence[];
  readonly containers: readonly ContainerEvidence[];
  readonly events: readonly EventEvidence[];
  readonly claims: readonly ClaimEvidence[];
  readonly unreadable: readonly string[];
}

export interface PodDiagnosis {
  readonly pod: string;
  /** What it looks like: Pending, ContainerCreating, Running and not Ready, ... */
  readonly state: string;
  /** Since when it has looked like that (the condition's lastTransitionTime), if known. */
  readonly since: number | undefined;
  /** Why, in the cluster's words where it has any. */
  readonly cause: string;
  /** Set when waiting cannot help within a stage (see FATAL_CAUSES): fail now, not at the timeout. */
  readonly fatal: string | undefined;
  readonly unreadable: readonly string[];
}

/**
 * Causes that do not resolve within a stage by waiting, and the reason a stage fails with.
 * A scheduler message an autoscaler could fix (Insufficient cpu, no node matches) is not here.
 */
export const FATAL_CAUSES = {
  StorageClassNotFound:
    'a claim names a StorageClass that does not exist, and no volume of that class either',
  ClaimLost: 'a claim is Lost: its PersistentVolume is gone',
  VolumeSourceNotFound: 'a volume mounts a ConfigMap or Secret that does not exist',
} as const;

export type FatalCause = keyof typeof FATAL_CAUSES;

/** The latest of some Warning events, preferring the given reasons. */
function latest(events: readonly EventEvidence[], reasons?: readonly string[]): EventEvidence | undefined {
  const pool = reasons ? events.filter((e) => reasons.includes(e.reason)) : events;
  return [...pool].sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0))[0];
}

function condition(evidence: PodEvidence, type: string): ConditionEvidence | undefined {
  return evidence.conditions.find((c) => c.type === type);
}

interface Cause {
  readonly cause: string;
  readonly fatal?: FatalCause;
}

/** A claim that keeps the pod from being scheduled, and why. */
function claimCause(claims: readonly ClaimEvidence[]): Cause | undefined {
  for (const claim of claims) {
    const what = `PersistentVolumeClaim ${claim.name}`;
    if (claim.phase === 'Lost')
      return { cause: `${what} is Lost: its PersistentVolume is gone`, fatal: 'ClaimLost' };
    if (claim.phase !== 'Pending') continue;
    const event = latest(claim.events);
    if (claim.storageClass && claim.storageClassExists === false && !claim.staticVolumes) {
      const missing = `${what} is Pending: storageclass "${claim.storageClass}" not found`;
      // Fatal only when no volume of that class exists either: a static one could still bind.
      if (claim.staticVolumes === false) return { cause: missing, fatal: 'StorageClassNotFound' };
      return { cause: missing };
    }
    if (event) return { cause: `${what} is Pending: ${event.message}` };
    const waiting = claim.storageClass
      ? `waiting for storageclass "${claim.storageClass}" to provision a volume`
      : 'waiting for a matching PersistentVolume';
    return { cause: `${what} is Pending: ${waiting}` };
  }
  return undefined;
}

const MOUNT_SOURCE_MISSING = /\b(configmap|secret) "[^"]*" not found/i;

/** Why a pod is where it is, from the most specific evidence to the least. */
function causeOf(evidence: PodEvidence): Cause {
  const scheduled = condition(evidence, 'PodScheduled');
  const claim = claimCause(evidence.claims);
  if (claim) return claim;
  if (scheduled?.status === 'False') {
    const event = latest(evidence.events, ['FailedScheduling']);
    const message = scheduled.message || event?.message || 'not scheduled yet';
    return { cause: scheduled.reason ? `${scheduled.reason}: ${message}` : message };
  }
  const mount = latest(evidence.events, ['FailedMount', 'FailedAttachVolume']);
  const creating = evidence.containers.some((c) => c.waitingReason === 'ContainerCreating');
  if (mount && (creating || evidence.phase === 'Pending')) {
    const fatal = MOUNT_SOURCE_MISSING.test(mount.message) ? 'VolumeSourceNotFound' : undefined;
    return { cause: `${mount.reason}: ${mount.message}`, ...(fatal ? { fatal } : {}) };
  }
  const waiting = evidence.containers.find((c) => c.waitingReason && c.waitingReason !== 'ContainerCreating');
  if (waiting) {
    const message = waiting.waitingMessage ? `: ${waiting.waitingMessage}` : '';
    return { cause: `container ${waiting.name} ${waiting.waitingReason}${message}${lastExit(waiting)}` };
  }
  const probe = latest(evidence.events, ['Unhealthy']);
  if (probe) return { cause: `${probe.message}${probe.count > 1 ? ` (${probe.count} times)` : ''}` };
  const any = latest(evidence.events);
  if (any) return { cause: `${any.reason}: ${any.message}` };
  const terminated = evidence.containers.find((c) => c.lastTermination);
  if (terminated) return { cause: `container ${terminated.name}${lastExit(terminated)}` };
  const notReady = evidence.containers.find((c) => !c.ready);
  if (notReady) return { cause: `container ${notReady.name} is not ready; no Warning event says why` };
  return { cause: 'no condition, container state or Warning event says why' };
}

/**
 * The exit code and reason only: the termination message is the application's own text, which
 * the report shows in a fenced block of its own (never inline).
 */
function lastExit(container: ContainerEvidence): string {
  const last = container.lastTermination;
  if (!last) return '';
  return ` (last exit ${last.exitCode}${last.reason ? ` ${last.reason}` : ''})`;
}

/** What the pod looks like, and since when, in `kubectl get pods` words. */
function stateOf(evidence: PodEvidence): { state: string; since: number | undefined } {
  const scheduled = condition(evidence, 'PodScheduled');
  const ready = condition(evidence, 'Ready');
  if (evidence.deleting) return { state: 'Terminating', since: undefined };
  if (evidence.phase === 'Pending') {
    const waiting = evidence.containers.find((c) => c.waitingReason)?.waitingReason;
    if (scheduled?.status === 'True' && waiting) return { state: waiting, since: scheduled.since };
    return { state: 'Pending', since: scheduled?.since ?? evidence.createdAt };
  }
  if (evidence.phase === 'Running') {
    const waiting = evidence.containers.find((c) => c.waitingReason)?.waitingReason;
    const state = waiting ? `Running, ${waiting}` : 'Running, not Ready';
    return { state, since: ready?.since ?? evidence.createdAt };
  }
  return { state: evidence.phase, since: ready?.since ?? evidence.createdAt };
}

export function diagnose(evidence: PodEvidence): PodDiagnosis {
  const { state, since } = stateOf(evidence);
  const { cause, fatal } = causeOf(evidence);
  return { pod: evidence.pod, state, since, cause, fatal, unreadable: evidence.unreadable };
}

/** `45 s`, `3 min 5 s`, `2 h 4 min`. */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

/**
 * One line per stuck pod, e.g. `myapp-4 Pending for 45 s: PersistentVolumeClaim
 * myappdata-myapp-4 is Pending: storageclass "gluster-dynamic" not found`.
 */
export function diagnosisLine(diagnosis: PodDiagnosis, now: number): string {
  const age = diagnosis.since === undefined ? '' : ` for ${ageText(now - diagnosis.since)}`;
  const unread = diagnosis.unreadable.length ? ` (could not read ${diagnosis.unreadable.join(', ')})` : '';
  // One line: the kubelet's mount errors span several.
  const cause = diagnosis.cause.replace(/\s*\n\s*/g, ' ');
  return `${diagnosis.pod} ${diagnosis.state}${age}: ${cause}${unread}`;
}
