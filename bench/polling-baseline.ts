// The polling baseline: what a `kubectl rollout status`-style script does. Every 2 s it GETs the
// StatefulSet and LISTs its pods, and when the stage is healthy and soaked it writes the next
// partition. Same plan, same health rule as the action (revision, Ready, soak measured from
// min(first seen Ready, lastTransitionTime + 1 s)), no watches. Measured by bench/latency.ts;
// the baseline alone: node bench/latency.ts --action-rollouts 0 --polling-rollouts 3

import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { parseSteps } from '../src/config/stages.ts';
import { planPartitions } from '../src/engine/plan.ts';
import { ordinalOf } from './kube.ts';
import { now } from './stats.ts';

export interface PollingOptions {
  /** A kubeconfig file (the proxy's), whose context namespace holds the StatefulSet. */
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly name: string;
  /** The new pod template image. */
  readonly image: string;
  readonly steps: string;
  readonly soakMs: number;
  readonly intervalMs?: number;
  readonly timeoutMs: number;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function readySince(pod: V1Pod): number | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return undefined;
  const t = ready.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() : Number.NaN;
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t + 1000;
}

/** Rolls the StatefulSet to `image` by polling; resolves when every pod is on the new revision. */
export async function pollingRollout(o: PollingOptions): Promise<{ startedAt: number; endedAt: number }> {
  const kc = new KubeConfig();
  kc.loadFromFile(o.kubeconfig);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const interval = o.intervalMs ?? 2000;
  const deadline = Date.now() + o.timeoutMs;
  const startedAt = now();
  const { namespace, name } = o;
  const patch = (body: object) => apps.patchNamespacedStatefulSet({ namespace, name, body }, mergePatch);

  let sts = await apps.readNamespacedStatefulSet({ namespace, name });
  const replicas = sts.spec?.replicas ?? 0;
  const containers = (sts.spec?.template.spec?.containers ?? []).map((c) => ({ ...c, image: o.image }));
  // Freeze and change the template in one write, then poll until the controller has a new revision.
  await patch({
    spec: { updateStrategy: { rollingUpdate: { partition: replicas } }, template: { spec: { containers } } },
  });
  const before = sts.status?.updateRevision;
  let tick = now();
  const nextTick = async () => {
    if (Date.now() > deadline) throw new Error(`bench: polling rollout of ${namespace}/${name} timed out`);
    tick += interval;
    await sleep(Math.max(0, tick - now()));
  };
  for (;;) {
    sts = await apps.readNamespacedStatefulSet({ namespace, name });
    if ((sts.status?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0)) {
      if (sts.status?.updateRevision !== before) break;
    }
    await nextTick();
  }
  const target = sts.status?.updateRevision ?? '';
  const firstSeen = new Map<string, number>();
  for (const partition of planPartitions(parseSteps(o.steps), replicas)) {
    await patch({ spec: { updateStrategy: { rollingUpdate: { partition } } } });
    // Every stage here takes the same time, so a fixed 2 s cadence would lock onto one phase and
    // give the same latency each stage. In real rollouts the poll's phase is unrelated to when a
    // stage becomes healthy: start each stage's polls at a random phase.
    tick = now() + Math.random() * interval - interval;
    for (;;) {
      await nextTick();
      sts = await apps.readNamespacedStatefulSet({ namespace, name });
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` });
      const t = now();
      const s = sts.status;
      let healthy =
        (s?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0) &&
        (s?.updatedReplicas ?? 0) >= replicas - partition;
      let inRange = 0;
      for (const pod of pods.items) {
        if (ordinalOf(pod.metadata?.name ?? '') < partition) continue;
        inRange++;
        const uid = pod.metadata?.uid ?? '';
        const since = readySince(pod);
        if (since !== undefined && !firstSeen.has(uid)) firstSeen.set(uid, Math.min(t, since));
        const seen = since === undefined ? undefined : firstSeen.get(uid);
        const onTarget = pod.metadata?.labels?.['controller-revision-hash'] === target;
        if (!onTarget || seen === undefined || seen + o.soakMs > t) healthy = false;
      }
      if (healthy && inRange === replicas - partition) break;
    }
  }
  return { startedAt, endedAt: now() };
}
