// From what the proxy and the independent pod watch recorded, reconstructs each stage of a run:
// when its partition was written, when its last pod was seen Ready, when its gate could first
// pass (last Ready + soak) and when the next partition was written.

import { ordinalOf, type PodLife } from './kube.ts';
import type { RecordedRequest } from './proxy.ts';

export interface PartitionWrite {
  readonly at: number;
  readonly partition: number;
}

/**
 * Partition writes to StatefulSet `name`: PATCHes whose body sets
 * spec.updateStrategy.rollingUpdate.partition, server-side applies (the freeze) excluded.
 */
export function partitionWrites(requests: readonly RecordedRequest[], name: string): PartitionWrite[] {
  const writes: PartitionWrite[] = [];
  for (const r of requests) {
    if (r.verb !== 'patch' || r.resource !== 'statefulsets' || r.name !== name) continue;
    if (r.contentType.startsWith('application/apply-patch') || r.status >= 300) continue;
    let body: { spec?: { updateStrategy?: { rollingUpdate?: { partition?: unknown } } } };
    try {
      body = JSON.parse(r.body) as typeof body;
    } catch {
      continue;
    }
    const partition = body.spec?.updateStrategy?.rollingUpdate?.partition;
    if (typeof partition === 'number') writes.push({ at: r.at, partition });
  }
  return writes;
}

export interface StageTiming {
  readonly partition: number;
  readonly writtenAt: number;
  /** Last pod in range (ordinal >= partition, target revision) seen Ready by our watch. */
  readonly lastReadyAt: number;
  /** lastReadyAt + soak: the gate's last condition holds from here. */
  readonly gateAt: number;
  /** The next stage's partition write, if any. */
  readonly nextWriteAt: number | undefined;
  /** nextWriteAt - gateAt. */
  readonly latencyMs: number | undefined;
  /** lastReadyAt - writtenAt (at least 0): what the controller and kubelet needed for this stage. */
  readonly controllerMs: number;
}

/** Stage timings of one run that took `replicas` pods to `revision` through `writes`. */
export function stageTimings(
  writes: readonly PartitionWrite[],
  lives: ReadonlyMap<string, PodLife>,
  revision: string,
  replicas: number,
  soakMs: number,
): StageTiming[] {
  const readyAt = new Map<number, number>();
  for (const life of lives.values()) {
    if (life.revision !== revision || life.readyAt === undefined) continue;
    const ordinal = ordinalOf(life.name);
    readyAt.set(ordinal, Math.max(readyAt.get(ordinal) ?? 0, life.readyAt));
  }
  // The freeze (partition = replicas, with the new template) is not a stage.
  const stages = writes.filter((w) => w.partition < replicas);
  return stages.map((write, index) => {
    let last = 0;
    for (let ordinal = write.partition; ordinal < replicas; ordinal++) {
      const t = readyAt.get(ordinal);
      if (t === undefined) {
        throw new Error(`bench: pod ordinal ${ordinal} was never seen Ready on revision ${revision}`);
      }
      last = Math.max(last, t);
    }
    const gateAt = last + soakMs;
    const nextWriteAt = stages[index + 1]?.at;
    return {
      partition: write.partition,
      writtenAt: write.at,
      lastReadyAt: last,
      gateAt,
      nextWriteAt,
      latencyMs: nextWriteAt === undefined ? undefined : nextWriteAt - gateAt,
      controllerMs: Math.max(0, last - write.at),
    };
  });
}

export function latencies(timings: readonly StageTiming[]): number[] {
  return timings.flatMap((t) => (t.latencyMs === undefined ? [] : [t.latencyMs]));
}
