// The scenario the runner unit tests share: 5 replicas of web on OLD roll out to NEW with
// steps 1, 50%, 100% (partitions 5, 4, 2, 0), soak 2 s, stage timeout 1 m; and the replies
// of a scripted controller for it.

import { ANNOTATION_PREFIX } from '../../../src/engine/state.ts';
import type { HttpClient } from '../../../src/ports/http.ts';
import { startRun } from '../run/scripted.ts';
import {
  afterApply,
  afterDelete,
  afterPartition,
  afterTemplateRestore,
  partitionOf,
  type Write,
} from './cluster-script.ts';
import type { FakeClock } from './fake-clock.ts';
import { pod, pods, statefulSet, template } from './observations.ts';
import { ScriptedCluster } from './scripted-cluster.ts';

export const OLD = 'web-5f6c7d8e9a';
export const NEW = 'web-7d4b9c6f5e';
export const THIRD = 'web-9a8b7c6d5e';
export const V1 = 'registry.local/web:v1';
export const V2 = 'registry.local/web:v2';
export const REPLICAS = 5;
/** The defaults of test/support/run/scripted.ts: soak 2s, stage-timeout 1m. */
export const SOAK = 2_000;
export const STAGE_TIMEOUT = 60_000;
/** A script that does not match what the runner does leaves it waiting: fail in 2 s, not hang. */
export const quick = { timeout: 2_000 };

/** 5 replicas, all Ready on OLD, partition 0: the state before a rollout. */
export function stable(clock: FakeClock): ScriptedCluster {
  return new ScriptedCluster({
    clock,
    initial: {
      statefulSet: statefulSet({ replicas: REPLICAS, currentRevision: OLD, image: V1 }),
      pods: pods(0, REPLICAS, OLD),
    },
  });
}

/** What the scripted controller does in reply to the runner's writes. */
export const controller = {
  /** The applied template gets a new updateRevision. */
  newRevision: () => afterApply({ statefulSet: { updateRevision: NEW } }),
  /** Pods `from`..`to - 1` replaced on NEW, Ready from the moment the partition is written. */
  updates: (clock: FakeClock, partition: number, from: number, to: number) =>
    afterPartition(partition, () => ({
      pods: pods(from, to, NEW, { readySince: clock.now() }),
      ...(partition === 0 ? { statefulSet: { currentRevision: NEW } } : {}),
    })),
  /** The canary (web-4) comes up on NEW but never Ready, or failing with `waitingReason`. */
  unreadyCanary: (waitingReason?: string) =>
    afterPartition(4, {
      pods: [
        pod(4, NEW, {
          ready: false,
          ...(waitingReason ? { waitingReason, restartCount: 3, waitingMessage: 'back-off 40s' } : {}),
        }),
      ],
    }),
  /** The template restored from OLD: updateRevision is OLD again. */
  restored: () => afterTemplateRestore(OLD, { statefulSet: { updateRevision: OLD, template: template(V1) } }),
  /** The template restored from OLD, and the Ready canary replaced on OLD by the controller itself. */
  restoredAndReplaced: (clock: FakeClock) =>
    afterTemplateRestore(OLD, () => ({
      statefulSet: { updateRevision: OLD, template: template(V1) },
      pods: [pod(4, OLD, { readySince: clock.now(), uid: 'web-4-again' })],
    })),
  /** The deleted canary recreated on OLD, Ready. */
  recreated: (clock: FakeClock) =>
    afterDelete('web-4', () => ({ pods: [pod(4, OLD, { readySince: clock.now(), uid: 'web-4-again' })] })),
};

export const setsPartition = (partition: number) => (write: Write) => partitionOf(write) === partition;

/** A `statefulset-canary.io/` annotation on the StatefulSet now. */
export function annotation(cluster: ScriptedCluster, key: string): string | undefined {
  return cluster.current()?.statefulSet.annotations[`${ANNOTATION_PREFIX}${key}`];
}

/** Starts a rollout of V2 and returns once the canary's partition is written and the runner waits. */
export async function startCanary(
  clock: FakeClock,
  cluster: ScriptedCluster,
  inputs: Record<string, string> = {},
  http?: HttpClient,
) {
  const run = startRun({ cluster, clock, image: V2, replicas: REPLICAS, inputs, ...(http ? { http } : {}) });
  const canary = await cluster.written(setsPartition(4));
  await clock.settle();
  return { run, canary };
}
