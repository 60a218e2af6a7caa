// `status` and `plan`: read-only views of a StatefulSet and of what a rollout would do.

import { restartsOf } from '../../engine/health.ts';
import { decodePausedAt } from '../../engine/pause.ts';
import { decodeState } from '../../engine/state.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';

/** Rows as aligned columns, like kubectl's tables. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function statusText(cluster: Cluster, ref: StatefulSetRef, now = Date.now()): Promise<string> {
  const observation = await cluster.observe(ref);
  if (!observation) {
    throw new Error(
      `StatefulSet ${ref.namespace}/${ref.name} was not found: check the statefulset and namespace inputs`,
    );
  }
  const sts = observation.statefulSet;
  const revisions = await cluster.revisions(ref);
  const number = (name: string) => revisions.find((r) => r.name === name)?.number ?? '?';
  const lines = [
    `StatefulSet ${ref.namespace}/${ref.name}: ${sts.replicas} replicas${ordinalRange(sts.ordinalsStart, sts.replicas)}, partition ${sts.partition}, ${sts.readyReplicas} ready, ${sts.updatedReplicas} updated`,
    `currentRevision ${sts.currentRevision} (${number(sts.currentRevision)}), updateRevision ${sts.updateRevision} (${number(sts.updateRevision)})`,
    '',
    'Revisions:',
    table([
      ['REVISION', 'NAME', 'IMAGES', 'CHANGE-CAUSE'],
      ...revisions.map((r) => [
        String(r.number),
        r.name,
        Object.values(r.images).join(','),
        r.changeCause ?? '<none>',
      ]),
    ]),
    '',
    'Pods:',
    table([
      ['ORDINAL', 'INDEX', 'POD', 'REVISION', 'PHASE', 'READY', 'RESTARTS'],
      ...observation.pods.map((p) => [
        String(p.ordinal),
        String(p.index),
        p.name,
        `${p.revision} (${number(p.revision)})`,
        p.deleting ? 'Terminating' : p.phase,
        p.ready ? 'true' : 'false',
        String(restartsOf(p)),
      ]),
    ]),
    '',
  ];
  const state = decodeState(sts.annotations);
  lines.push(
    state
      ? `Recorded rollout: ${state.phase} at stage ${state.stage}, ${state.previousRevision} -> ${state.targetRevision}, original partition ${state.originalPartition}` +
          (state.phase === 'paused' ? pausedFor(sts.annotations, now) : '') +
          (state.pullRequest ? `, PR #${state.pullRequest}` : '') +
          (state.runUrl ? `, run ${state.runUrl}` : '')
      : 'Recorded rollout: none',
  );
  return lines.join('\n');
}

/** `, paused for 1h 5m (since 2026-11-29T10:00:00.000Z)`. */
function pausedFor(annotations: Readonly<Record<string, string>>, now: number): string {
  const since = decodePausedAt(annotations);
  if (since === undefined) return '';
  const s = Math.max(0, Math.round((now - since) / 1000));
  const text =
    s >= 3600
      ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m ${s % 60}s`
        : `${s}s`;
  return `, paused for ${text} (since ${new Date(since).toISOString()}); promote to go on, abort to go back`;
}

/** `(ordinals 10..14)` when the StatefulSet's pods do not start at 0. */
function ordinalRange(start: number, replicas: number): string {
  if (start === 0 || replicas === 0) return '';
  return ` (ordinals ${start}..${start + replicas - 1}; the partition counts pods by index, ordinal - ${start})`;
}

/** The end of a run for a terminal: the result line and a row per stage. */
export function outcomeText(outcome: {
  readonly result: string;
  readonly revision: string | undefined;
  readonly previousRevision: string | undefined;
  readonly durationSeconds: number;
  readonly stages: readonly {
    statefulSet: string;
    stage: number;
    partition: number;
    ordinals: readonly number[];
    verdict: string;
    startedAt: string | undefined;
    endedAt: string | undefined;
  }[];
}): string {
  const was =
    outcome.previousRevision && outcome.previousRevision !== outcome.revision
      ? ` (was ${outcome.previousRevision})`
      : '';
  const head = `result: ${outcome.result}, revision ${outcome.revision ?? '-'}${was}, ${outcome.durationSeconds} s`;
  if (outcome.stages.length === 0) return head;
  const seconds = (s: { startedAt: string | undefined; endedAt: string | undefined }) =>
    s.startedAt && s.endedAt
      ? `${((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s`
      : '-';
  const rows = outcome.stages.map((s) => [
    s.statefulSet,
    String(s.stage),
    String(s.partition),
    s.ordinals.join(',') || '-',
    s.verdict,
    seconds(s),
  ]);
  return `${head}
${table([['STATEFULSET', 'STAGE', 'PARTITION', 'ORDINALS', 'VERDICT', 'DURATION'], ...rows])}`;
}
