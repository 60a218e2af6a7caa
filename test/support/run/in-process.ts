// Runs the action's engine in-process against the local control plane, with the real
// Kubernetes adapters, a recording log and a recording reporter; and records what the
// cluster did meanwhile (partition writes, pod revision changes) through an independent watch.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Pod,
  type V1StatefulSet,
  Watch,
} from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import type { RetryEvent } from '../../../src/adapters/kubernetes/retry.ts';
import type { Outcome } from '../../../src/app.ts';
import { composeApp } from '../../../src/compose.ts';
import { readSettings } from '../../../src/config/inputs.ts';
import type { Fleet } from '../../../src/engine/fleet.ts';
import type { RolloutReport } from '../../../src/engine/report.ts';
import type { TestNamespace } from '../../cluster/harness.ts';
import { recordingLog } from '../scripted/recording-log.ts';

export interface ActionRun {
  readonly outcome: Outcome;
  /** The run's log lines, as test/support/scripted/recording-log.ts writes them (`info: ...`). */
  readonly logs: string[];
  readonly reports: RolloutReport[];
  /** What the run told the reporters it would do, before its first StatefulSet started. */
  readonly fleets: Fleet[];
  /** Every retry the Kubernetes adapters made (through the one retry policy's hook). */
  readonly retries: RetryEvent[];
}

/** Writes `objects` as one multi-document YAML file and returns its path. */
export function manifestFile(objects: readonly unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sts-canary-'));
  const path = join(dir, 'manifests.yaml');
  writeFileSync(path, objects.map((o) => dump(o)).join('---\n'));
  return path;
}

export interface EngineOptions {
  /** Credentials to run with: the admin's, a proxy's, a least-privilege service account's. */
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly inputs: Record<string, string>;
  readonly runUrl?: string;
  readonly pullRequest?: number;
  readonly signal?: AbortSignal;
  /** Sees each report as the run hands it to its reporters (to act mid-run). */
  readonly onReport?: (report: RolloutReport) => void;
  /** Secrets of the run besides the inputs' (as main.ts passes the kubeconfig's): masked in crash logs. */
  readonly secrets?: readonly string[];
}

/** Runs the engine in-process through the composition root, with a recording log and reporter. */
export async function runEngine(options: EngineOptions): Promise<ActionRun> {
  const reports: RolloutReport[] = [];
  const fleets: Fleet[] = [];
  const retries: RetryEvent[] = [];
  const settings = readSettings((name) => options.inputs[name] ?? '');
  const log = recordingLog();
  const app = await composeApp({
    settings,
    kube: {
      kubeConfig: options.kubeConfig,
      contextName: 'local',
      defaultNamespace: options.namespace,
      ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
    },
    log,
    origin: {
      kind: 'local',
      runUrl: options.runUrl ?? 'https://github.com/o/r/actions/runs/1',
      commit: 'abc123',
      ...(options.pullRequest === undefined ? {} : { pullRequest: options.pullRequest }),
    },
    observer: {
      update: async (report) => {
        reports.push(report);
        options.onReport?.(report);
      },
      fleet: (fleet) => void fleets.push(fleet),
    },
    onRetry: (event) => {
      retries.push(event);
    },
  });
  const outcome = await app.run(options.signal ?? new AbortController().signal);
  return { outcome, logs: log.lines, reports, fleets, retries };
}

/** The engine with the namespace's admin credentials, recording pull request #7. */
export function runAction(
  ns: TestNamespace,
  inputs: Record<string, string>,
  signal: AbortSignal = new AbortController().signal,
): Promise<ActionRun> {
  return runEngine({ kubeConfig: ns.kubeConfig, namespace: ns.name, inputs, signal, pullRequest: 7 });
}

export interface ClusterRecord {
  /** Every distinct partition seen on the StatefulSet, in order. */
  readonly partitions: number[];
  /** Pod revision changes: [time, pod, revision]. */
  readonly podRevisions: [number, string, string][];
  /** Times at which the partition changed, by new value. */
  readonly partitionTimes: Map<number, number>;
  /** Every uid each pod name has had, in order. */
  readonly uids: Map<string, string[]>;
  stop(): void;
}

/** Records the StatefulSet's partitions and its pods' revisions and uids as they change. */
export async function recordCluster(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): Promise<ClusterRecord> {
  const record: ClusterRecord = {
    partitions: [],
    podRevisions: [],
    partitionTimes: new Map(),
    uids: new Map(),
    stop: () => undefined,
  };
  const watch = new Watch(kubeConfig);
  const onSts = (_type: string, sts: V1StatefulSet) => {
    const p = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (record.partitions[record.partitions.length - 1] !== p) {
      record.partitions.push(p);
      record.partitionTimes.set(p, Date.now());
    }
  };
  const revisions = new Map<string, string>();
  const onPod = (type: string, pod: V1Pod) => {
    const podName = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    const list = record.uids.get(podName) ?? [];
    if (type !== 'DELETED' && list[list.length - 1] !== uid) record.uids.set(podName, [...list, uid]);
    const revision = pod.metadata?.labels?.['controller-revision-hash'] ?? '';
    if (type !== 'DELETED' && revisions.get(podName) !== revision) {
      revisions.set(podName, revision);
      record.podRevisions.push([Date.now(), podName, revision]);
    }
  };
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const sts = await apps.listNamespacedStatefulSet({ namespace });
  for (const s of sts.items) if (s.metadata?.name === name) onSts('ADDED', s);
  const pods = await core.listNamespacedPod({ namespace });
  for (const p of pods.items) onPod('ADDED', p);
  const a = await watch.watch(
    `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
    { resourceVersion: sts.metadata?.resourceVersion, fieldSelector: `metadata.name=${name}` },
    onSts,
    () => undefined,
  );
  const b = await watch.watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { resourceVersion: pods.metadata?.resourceVersion },
    onPod,
    () => undefined,
  );
  return {
    ...record,
    stop() {
      a.abort();
      b.abort();
    },
  };
}

/** "apply StatefulSet x/db: 500 InternalError" lines, for failure messages. */
export function describeRetries(retries: readonly RetryEvent[]): string {
  return retries
    .map((r) => `${r.operation.verb} ${r.operation.kind}: ${r.error.status} ${r.error.reason}`)
    .join('\n');
}
