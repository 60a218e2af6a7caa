// Why a failed stage's containers crashed: the last lines of their logs, read once when the
// stage fails (never while it waits), for at most CRASH_LOG.PODS pods, and logged as read. What
// to read and what to show is the engine's (engine/crash-log.ts); the adapter masks secrets.
import { type CrashLog, crashLog, crashLogLines, crashLogTargets } from '../../engine/crash-log.ts';
import type { PodEvidence } from '../../engine/diagnosis.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import type { Log } from '../../ports/log.ts';

export async function readCrashLogs(
  deps: { readonly cluster: Cluster; readonly log: Log },
  ref: StatefulSetRef,
  evidence: readonly PodEvidence[],
  failed: { readonly pod: string; readonly container: string | undefined },
): Promise<CrashLog[]> {
  const { cluster, log } = deps;
  if (!cluster.crashLog) return [];
  const logs: CrashLog[] = [];
  for (const target of crashLogTargets(evidence, failed)) {
    const read = await cluster.crashLog(ref, target);
    const shown = crashLog(target, read);
    for (const line of crashLogLines(shown)) log.info(line);
    logs.push(shown);
  }
  return logs;
}
