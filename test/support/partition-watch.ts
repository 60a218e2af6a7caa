// The partition of every StatefulSet of a namespace over time, from one watch (not polling), for
// tests that check StatefulSets were staged independently: each through its own stages, the
// ones of a wave overlapping in time, a wave after the one before it.
import { AppsV1Api, type KubeConfig, type V1StatefulSet, Watch } from '@kubernetes/client-node';

/** [time, partition] each time a StatefulSet's partition changed, by StatefulSet name. */
export type PartitionHistory = Map<string, [number, number][]>;

export interface PartitionWatch {
  readonly history: PartitionHistory;
  /** Resolves once `predicate` holds for the history (checked now and at every event). */
  until(predicate: (history: PartitionHistory) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): void;
}

export async function watchPartitions(kubeConfig: KubeConfig, namespace: string): Promise<PartitionWatch> {
  const history: PartitionHistory = new Map();
  const waiters = new Set<() => void>();
  const onSts = (_type: string, sts: V1StatefulSet) => {
    const name = sts.metadata?.name ?? '';
    const p = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const list = history.get(name) ?? [];
    if (list.at(-1)?.[1] !== p) history.set(name, [...list, [Date.now(), p]]);
    for (const wake of waiters) wake();
  };
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const listed = await apps.listNamespacedStatefulSet({ namespace });
  for (const s of listed.items) onSts('ADDED', s);
  const request = await new Watch(kubeConfig).watch(
    `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
    { resourceVersion: listed.metadata?.resourceVersion },
    onSts,
    () => undefined,
  );
  return {
    history,
    until(predicate, what, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}: ${JSON.stringify([...history])}`));
        }, timeoutMs);
        const check = () => {
          if (!predicate(history)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    stop: () => request.abort(),
  };
}

/** The partitions a StatefulSet went through, in order (after `since`, when given). */
export function partitionsOf(history: PartitionHistory, name: string, since = 0): number[] {
  return (history.get(name) ?? []).filter(([t]) => t >= since).map(([, p]) => p);
}

/** When a StatefulSet's staging began (first lowered below its frozen partition) and ended (first at 0). */
export function stagedSpan(history: PartitionHistory, name: string, since = 0): [number, number] {
  const list = (history.get(name) ?? []).filter(([t]) => t >= since);
  const frozen = list.findIndex(([, p], i) => i + 1 < list.length && (list[i + 1]?.[1] ?? p) < p);
  const start = list[frozen + 1]?.[0] ?? Number.NaN;
  // The first 0 after it: a rollback after the rollout moves the partition again.
  const end = list.slice(frozen + 1).find(([, p]) => p === 0)?.[0] ?? Number.NaN;
  return [start, end];
}
