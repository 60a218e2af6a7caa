// What the kubelet stand-in reports for a pod: a pure function of the pod's
// spec and the stand-in's simulated state of it. Behaviour is keyed on what a
// test can put in a pod template:
// - image tag containing `crashloop`: Running, container waiting CrashLoopBackOff,
//   never Ready, restartCount growing, lastState.terminated (exit 1, Error, message
//   from the annotation below or a default);
// - `unready`: Running, never Ready; `badpull`: Pending, waiting ImagePullBackOff;
// - `flaky`: Ready, then one restart (not Ready for a moment), then Ready again;
// - `errors`, `idle`: Running and Ready like anything else; they change only what the pod's
//   simulated app answers over HTTP and the metrics it has (kubelet-http.ts);
// - anything else: Running and Ready after the ready delay.

export const readyAfterAnnotation = 'simulator.statefulset-canary/ready-after';
export const terminationMessageAnnotation = 'simulator.statefulset-canary/termination-message';
export const defaultReadyAfterMs = 300;
export const crashLoopIntervalMs = 2500;
export const flakyRestartAfterMs = 2000;
export const flakyDownForMs = 500;

export type Behaviour = 'normal' | 'crashloop' | 'unready' | 'badpull' | 'flaky' | 'errors' | 'idle';

export interface ContainerSpec {
  name: string;
  image?: string;
}

/** What the stand-in has simulated so far for one pod. */
export interface SimState {
  uid: string;
  podIP: string;
  scheduledAt: string;
  /** Containers have been "started" (false until the start delay passed). */
  started: boolean;
  startedAt: string;
  /** The ready delay has passed (readiness probe would succeed). */
  readyReached: boolean;
  crashRestarts: number;
  lastCrashAt: string;
  flaky: 'before' | 'down' | 'after';
  flakyRestartedAt: string;
  /** Condition type -> [status, lastTransitionTime], so transitions keep their real time. */
  conditions: Map<string, [string, string]>;
}

/** Kubernetes shows times with second precision; report them the same way. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The tag of an image reference (`repo:tag`, `host:5000/repo:tag@sha256:...`), or ''. */
export function imageTag(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(colon + 1) : '';
}

export function behaviourOf(image: string | undefined): Behaviour {
  const tag = imageTag(image ?? '');
  for (const b of ['crashloop', 'unready', 'badpull', 'flaky', 'errors', 'idle'] as const) {
    if (tag.includes(b)) return b;
  }
  return 'normal';
}

/** Parses "2s", "500ms", "1.5s", "1m" (or a bare number of milliseconds). */
export function parseDuration(text: string | undefined, fallbackMs: number): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text ?? '');
  if (!match) return fallbackMs;
  const value = Number(match[1]);
  const unit = match[2] ?? 'ms';
  return Math.round(value * (unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1));
}

function fakeDigest(image: string): string {
  let h = 0;
  for (const ch of image) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `sha256:${h.toString(16).padStart(8, '0').repeat(8)}`;
}

function containerId(sim: SimState, name: string, restart: number): string {
  return `containerd://${sim.uid.replaceAll('-', '')}${name}${restart}`.slice(0, 80);
}

export interface PodInfo {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  containers: ContainerSpec[];
}

function containerStatus(pod: PodInfo, c: ContainerSpec, sim: SimState): Record<string, unknown> {
  const image = c.image ?? '';
  const behaviour = behaviourOf(image);
  const base = { name: c.name, image, imageID: `${image.split(':')[0]}@${fakeDigest(image)}` };
  if (behaviour === 'badpull') {
    const message = pullBackOffMessage(image, `${image}: not found`);
    return {
      ...base,
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ImagePullBackOff', message } },
    };
  }
  if (!sim.started) {
    return {
      ...base,
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    };
  }
  if (behaviour === 'crashloop') {
    // As the real kubelet: a terminated state has a message only when the container wrote one.
    const message = pod.annotations[terminationMessageAnnotation];
    return {
      ...base,
      containerID: containerId(sim, c.name, sim.crashRestarts),
      ready: false,
      started: false,
      restartCount: sim.crashRestarts,
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off 10s restarting failed container=${c.name} pod=${pod.name}_${pod.namespace}(${sim.uid})`,
        },
      },
      lastState: {
        terminated: {
          exitCode: 1,
          reason: 'Error',
          ...(message === undefined ? {} : { message }),
          startedAt: sim.lastCrashAt,
          finishedAt: sim.lastCrashAt,
          containerID: containerId(sim, c.name, sim.crashRestarts),
        },
      },
    };
  }
  const restarted = behaviour === 'flaky' && sim.flaky !== 'before';
  const ready =
    sim.readyReached && behaviour !== 'unready' && !(behaviour === 'flaky' && sim.flaky === 'down');
  return {
    ...base,
    containerID: containerId(sim, c.name, restarted ? 1 : 0),
    ready,
    started: true,
    restartCount: restarted ? 1 : 0,
    state: { running: { startedAt: restarted ? sim.flakyRestartedAt : sim.startedAt } },
    ...(restarted
      ? {
          lastState: {
            terminated: {
              exitCode: 1,
              reason: 'Error',
              ...(pod.annotations[terminationMessageAnnotation] === undefined
                ? {}
                : { message: pod.annotations[terminationMessageAnnotation] }),
              startedAt: sim.startedAt,
              finishedAt: sim.flakyRestartedAt,
              containerID: containerId(sim, c.name, 0),
            },
          },
        }
      : {}),
  };
}

/** Sets a condition, keeping its lastTransitionTime unless its status changed. */
function condition(
  sim: SimState,
  type: string,
  ok: boolean,
  now: string,
  reason?: string,
): Record<string, unknown> {
  const status = ok ? 'True' : 'False';
  const previous = sim.conditions.get(type);
  const since = previous && previous[0] === status ? previous[1] : now;
  sim.conditions.set(type, [status, since]);
  return { type, status, lastProbeTime: null, lastTransitionTime: since, ...(reason ? { reason } : {}) };
}

/** The full pod status to write through pods/status (a merge patch replaces the lists whole). */
export function podStatus(pod: PodInfo, sim: SimState, nowMs: number): Record<string, unknown> {
  const now = kubeTime(nowMs);
  const containerStatuses = pod.containers.map((c) => containerStatus(pod, c, sim));
  const allReady = containerStatuses.every((s) => s.ready === true);
  const anyNeverStarted = containerStatuses.some((s) => s.started === false && s.restartCount === 0);
  const phase = anyNeverStarted ? 'Pending' : 'Running';
  const notReady = allReady ? undefined : 'ContainersNotReady';
  return {
    phase,
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    podIP: sim.podIP,
    podIPs: [{ ip: sim.podIP }],
    startTime: sim.scheduledAt,
    conditions: [
      condition(sim, 'PodReadyToStartContainers', sim.started, now),
      condition(sim, 'Initialized', true, now),
      condition(sim, 'Ready', allReady, now, notReady),
      condition(sim, 'ContainersReady', allReady, now, notReady),
      condition(sim, 'PodScheduled', true, now),
    ],
    containerStatuses,
  };
}

/**
 * The waiting message of an image that cannot be pulled, in the real kubelet's and containerd's
 * words (compared with a real node's in test/integration/real-node.test.ts); `cause` is why the
 * registry could not resolve it.
 */
export function pullBackOffMessage(image: string, cause: string): string {
  return `Back-off pulling image "${image}": ErrImagePull: failed to pull and unpack image "${image}": failed to resolve image: ${cause}`;
}

/** The real kubelet's Warning BackOff message while a crashed container waits to restart. */
export function crashBackOffMessage(
  pod: { name: string; namespace: string; uid: string },
  container: string,
): string {
  return `Back-off restarting failed container ${container} in pod ${pod.name}_${pod.namespace}(${pod.uid})`;
}
