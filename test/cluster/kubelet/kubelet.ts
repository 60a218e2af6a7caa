// The kubelet stand-in: watches pods in all namespaces, binds unscheduled pods
// to its Node, and drives their status through pods/status the way a kubelet
// would (see kubelet-status.ts for the behaviours), so the real StatefulSet
// controller progresses. One timer per pending transition, no polling: a
// 300-pod Parallel StatefulSet costs one binding and one or two status writes
// per pod. It also serves the pods' network (kubelet-network.ts): the API
// server's pod proxy and a loopback port reach each pod's simulated app.

import { rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, StorageV1Api, type V1Pod } from '@kubernetes/client-node';
import { call, ensureNodeReady, log, mergePatch } from './kubelet-api.ts';
import { endpointOf, POD_IPS, PodNetwork, podIpAt } from './kubelet-network.ts';
import { initialSim } from './kubelet-sim.ts';
import {
  behaviourOf,
  crashBackOffMessage,
  crashLoopIntervalMs,
  defaultReadyAfterMs,
  flakyDownForMs,
  flakyRestartAfterMs,
  kubeTime,
  type PodInfo,
  parseDuration,
  podStatus,
  readyAfterAnnotation,
  type SimState,
} from './kubelet-status.ts';
import {
  ensureLocalStorageClass,
  failedMountMessage,
  failingHostPathMount,
  hasHttpReadinessProbe,
  PodWarnings,
  readinessFailedMessage,
  runProvisioner,
  warningIntervalMs,
} from './kubelet-volumes.ts';
import { stopWatching, watchAllPods } from './kubelet-watch.ts';

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'node-name': { type: 'string', default: 'local-node' },
    'ready-file': { type: 'string' },
    verbose: { type: 'boolean', default: false },
    // --no-bind: only drive pods already on this node (a second stand-in must not race the first).
    bind: { type: 'boolean', default: true },
    // --provision: serve StorageClass `local` (the cluster with a scheduler, issue 13).
    provision: { type: 'boolean', default: false },
    // The pod network (kubelet-network.ts): the API server's egress socket and the loopback port.
    'pod-network-socket': { type: 'string' },
    'pod-http-port': { type: 'string' },
    // The real nodes' pod CIDRs (test/cluster/node): the egress tunnels to those pods.
    'real-pod-cidr': { type: 'string', multiple: true, default: [] },
  },
  allowNegative: true,
});
if (!args.kubeconfig)
  throw new Error('usage: kubelet.ts --kubeconfig=FILE [--node-name=NAME] [--ready-file=FILE]');
const nodeName = args['node-name'];
const kc = new KubeConfig();
kc.loadFromFile(args.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const warnings = new PodWarnings(core, nodeName);
const network = new PodNetwork();
const trace = (message: string): void => {
  if (args.verbose) log(message);
};

interface Tracked {
  info: PodInfo;
  sim: SimState;
  timers: Set<NodeJS.Timeout>;
  writing: boolean;
  dirty: boolean;
  /** When its containers started (ms): the pod network serves it from then on. */
  startedMs?: number;
}

const tracked = new Map<string, Tracked>(); // by pod uid
const binding = new Set<string>(); // uids whose binding was sent
const deleting = new Map<string, NodeJS.Timeout>(); // uids whose final delete is scheduled
// From a random start, so a restarted stand-in rarely meets the IPs of the pods it adopts.
let nextIp = Math.floor(Math.random() * POD_IPS);

/** A pod IP no tracked pod has: the pod network routes by IP. */
function podIp(): string {
  for (;;) {
    nextIp = (nextIp + 1) % POD_IPS;
    const ip = podIpAt(nextIp);
    if (!network.hasIp(ip)) return ip;
  }
}

function forget(uid: string): void {
  const t = tracked.get(uid);
  if (t) for (const timer of t.timers) clearTimeout(timer);
  tracked.delete(uid);
  network.remove(uid);
  warnings.forget(uid);
  binding.delete(uid);
  const d = deleting.get(uid);
  if (d) clearTimeout(d);
  deleting.delete(uid);
}

/** Writes the pod's current simulated status; coalesces writes while one is in flight. */
async function write(uid: string): Promise<void> {
  const t = tracked.get(uid);
  if (!t) return;
  if (t.writing) {
    t.dirty = true;
    return;
  }
  t.writing = true;
  do {
    t.dirty = false;
    const body = { status: podStatus(t.info, t.sim, Date.now()) };
    const { namespace, name } = t.info;
    const result = await call(`write status of ${namespace}/${name}`, () =>
      core.patchNamespacedPodStatus({ name, namespace, body }, mergePatch),
    );
    if (result === 'gone') break;
  } while (t.dirty && tracked.get(uid) === t);
  t.writing = false;
}

function at(t: Tracked, delayMs: number, step: () => void): void {
  const timer = setTimeout(() => {
    t.timers.delete(timer);
    step();
    void write(t.sim.uid);
  }, delayMs);
  t.timers.add(timer);
}

/** Schedules the pod's life: start, ready, crash loop ticks, flaky restart. */
function start(pod: V1Pod, uid: string): void {
  const info: PodInfo = {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    annotations: pod.metadata?.annotations ?? {},
    containers: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image })),
  };
  const { sim, elapsedMs } = initialSim(pod, uid, podIp(), Date.now());
  const t: Tracked = { info, sim, timers: new Set(), writing: false, dirty: false };
  tracked.set(uid, t);
  network.add(endpointOf(pod, t));
  const mounts = pod.spec?.volumes?.some((v) => v.hostPath || v.persistentVolumeClaim);
  if (!mounts) {
    live(t, pod, elapsedMs);
    return;
  }
  void failingHostPathMount(core, pod).then((mount) => {
    if (tracked.get(uid) !== t) return;
    if (!mount) {
      live(t, pod, elapsedMs);
      return;
    }
    // As the kubelet: the containers never start, the pod stays in ContainerCreating.
    void write(uid);
    repeat(t, () => warnings.emit(pod, 'FailedMount', failedMountMessage(mount)));
  });
}

/** Runs `emit` now and every warningIntervalMs while the pod is tracked. */
function repeat(t: Tracked, emit: () => Promise<void>): void {
  void emit();
  const timer = setInterval(() => void emit(), warningIntervalMs);
  t.timers.add(timer);
}

/** The pod's life once its volumes are mounted. */
function live(t: Tracked, pod: V1Pod, elapsedMs: number): void {
  const { info, sim } = t;
  const behaviours = new Set(info.containers.map((c) => behaviourOf(c.image)));
  const readyAfter = parseDuration(info.annotations[readyAfterAnnotation], defaultReadyAfterMs);
  const startAfter = Math.min(defaultReadyAfterMs, readyAfter);
  // An adopted pod (stand-in restarted) is already `elapsedMs` into its life.
  const after = (ms: number): number => Math.max(0, ms - elapsedMs);
  at(t, after(startAfter), () => {
    sim.started = true;
    // An adopted pod has run since the time its status shows.
    t.startedMs = sim.startedAt ? Date.parse(sim.startedAt) : Date.now();
    sim.startedAt ||= kubeTime(t.startedMs);
    sim.readyReached = readyAfter <= startAfter || elapsedMs >= readyAfter;
    if (behaviours.has('crashloop')) {
      crashTick(t);
      // The real kubelet's Warning while a container waits to be restarted.
      const crashing = info.containers.filter((c) => behaviourOf(c.image) === 'crashloop');
      const { name = '', namespace = '', uid = '' } = pod.metadata ?? {};
      for (const c of crashing) {
        const message = crashBackOffMessage({ name, namespace, uid }, c.name);
        repeat(t, () => warnings.emit(pod, 'BackOff', message));
      }
    }
    if (behaviours.has('unready') && hasHttpReadinessProbe(pod)) {
      repeat(t, () => warnings.emit(pod, 'Unhealthy', readinessFailedMessage));
    }
  });
  if (readyAfter > startAfter && elapsedMs < readyAfter) {
    at(t, after(readyAfter), () => {
      sim.readyReached = true;
    });
  }
  if (behaviours.has('flaky') && sim.flaky === 'before') {
    at(t, after(readyAfter + flakyRestartAfterMs), () => {
      sim.flaky = 'down';
      sim.flakyRestartedAt = kubeTime(Date.now());
    });
    at(t, after(readyAfter + flakyRestartAfterMs + flakyDownForMs), () => {
      sim.flaky = 'after';
    });
  }
}

function crashTick(t: Tracked): void {
  t.sim.crashRestarts++;
  t.sim.lastCrashAt = kubeTime(Date.now());
  at(t, crashLoopIntervalMs, () => crashTick(t));
}

/** A real kubelet stops the containers, then confirms with a delete of grace 0. */
function scheduleDeletion(pod: V1Pod, uid: string): void {
  if (deleting.has(uid)) return;
  const t = tracked.get(uid);
  if (t) for (const timer of t.timers) clearTimeout(timer);
  network.remove(uid); // its containers stop
  const graceMs = Math.min((pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000, 1000);
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  trace(`deleting ${namespace}/${name} in ${graceMs} ms`);
  const timer = setTimeout(async () => {
    const result = await call(`delete ${namespace}/${name}`, () =>
      // With a body the API server ignores query parameters: the grace period goes in the body.
      core.deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } }),
    );
    trace(`deleted ${namespace}/${name}: ${typeof result === 'string' ? result : 'ok'}`);
  }, graceMs);
  deleting.set(uid, timer);
}

function bind(pod: V1Pod, uid: string): void {
  if (binding.has(uid)) return;
  binding.add(uid);
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  void call(`bind ${namespace}/${name}`, () =>
    core.createNamespacedBinding({
      namespace,
      body: { metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
    }),
  );
}

function handle(pod: V1Pod): void {
  const uid = pod.metadata?.uid;
  trace(
    `saw ${pod.metadata?.namespace}/${pod.metadata?.name} node=${pod.spec?.nodeName} deleting=${Boolean(pod.metadata?.deletionTimestamp)}`,
  );
  if (!uid) return;
  const node = pod.spec?.nodeName;
  if (node && node !== nodeName) return;
  if (pod.metadata?.deletionTimestamp) {
    // Unbound pods are removed by the API server itself.
    if (node) scheduleDeletion(pod, uid);
  } else if (!node) {
    if (args.bind) bind(pod, uid);
  } else if (!tracked.has(uid)) start(pod, uid);
}

async function main(): Promise<void> {
  if (args['pod-network-socket'] && args['pod-http-port']) {
    for (const cidr of args['real-pod-cidr']) network.addRealPodCidr(cidr);
    await network.listen(args['pod-network-socket'], Number(args['pod-http-port']));
  }
  await ensureNodeReady(core, nodeName);
  if (args.provision) {
    await ensureLocalStorageClass(kc.makeApiClient(StorageV1Api));
    void runProvisioner(kc, core);
  }
  setInterval(
    () => {
      void ensureNodeReady(core, nodeName).catch((e: unknown) => log(String(e)));
      const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);
      log(
        `stats: ${tracked.size} pods tracked, ${binding.size} bound, ${deleting.size} deleting, heap ${heapMb} MB`,
      );
    },
    Number(process.env.KUBELET_STATS_MS ?? 30_000),
  );
  const sink = { handle, forget, known: () => [...tracked.keys(), ...binding, ...deleting.keys()] };
  await watchAllPods(kc, core, sink, () => {
    if (args['ready-file']) writeFileSync(args['ready-file'], `${process.pid}\n`);
    log(`watching pods as Node ${nodeName}`);
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    stopWatching();
    network.unlink();
    if (args['ready-file']) rmSync(args['ready-file'], { force: true });
    process.exit(0);
  });
}

await main();
