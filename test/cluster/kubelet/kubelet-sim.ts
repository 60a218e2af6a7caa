// The simulated state a kubelet stand-in starts from for a pod: fresh for a
// new pod, or recovered from the status an earlier stand-in wrote, so that
// restarting the stand-in (`cluster:up -- --restart-kubelet`) keeps Ready
// transition times and restart counts instead of resetting running pods.
import type { V1Pod } from '@kubernetes/client-node';
import { behaviourOf, kubeTime, type SimState } from './kubelet-status.ts';

const toMs = (t: Date | string | undefined): number | undefined =>
  t === undefined ? undefined : new Date(t).getTime();

export interface InitialSim {
  sim: SimState;
  /** How far into its simulated life the pod already is (0 for a new pod). */
  elapsedMs: number;
}

export function initialSim(pod: V1Pod, uid: string, podIP: string, nowMs: number): InitialSim {
  const sim: SimState = {
    uid,
    podIP,
    scheduledAt: kubeTime(nowMs),
    started: false,
    startedAt: '',
    readyReached: false,
    crashRestarts: 0,
    lastCrashAt: '',
    flaky: 'before',
    flakyRestartedAt: '',
    conditions: new Map(),
  };
  const statuses = pod.status?.containerStatuses ?? [];
  // Only pods a stand-in already drove have container statuses; a new pod's
  // creationTimestamp (second precision) would make its delays up to 1 s short.
  if (statuses.length === 0) return { sim, elapsedMs: 0 };
  for (const c of pod.status?.conditions ?? []) {
    const since = toMs(c.lastTransitionTime);
    if (since !== undefined) sim.conditions.set(c.type, [c.status, kubeTime(since)]);
  }
  sim.podIP = pod.status?.podIP ?? podIP;
  sim.scheduledAt = kubeTime(toMs(pod.status?.startTime) ?? nowMs);
  const runningSince = statuses.map((s) => toMs(s.state?.running?.startedAt)).find((t) => t !== undefined);
  if (runningSince !== undefined) sim.startedAt = kubeTime(runningSince);
  sim.crashRestarts = Math.max(0, ...statuses.map((s) => s.restartCount ?? 0));
  const flakyRestarted = statuses.some((s) => behaviourOf(s.image) === 'flaky' && (s.restartCount ?? 0) > 0);
  if (flakyRestarted) {
    sim.flaky = 'after';
    sim.flakyRestartedAt = sim.startedAt;
  }
  const created = toMs(pod.metadata?.creationTimestamp) ?? nowMs;
  return { sim, elapsedMs: Math.max(0, nowMs - created) };
}
