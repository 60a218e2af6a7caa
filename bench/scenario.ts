// One measured rollout in a fresh namespace: create a Ready StatefulSet directly, then roll it to a
// new image with the bundled action (or the polling baseline) through the recording proxy, while
// an independent watch timestamps pod readiness. Cleans up the namespace and the proxy.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import { adminKubeConfig } from '../test/cluster/harness.ts';
import {
  type BundleRun,
  benchNamespace,
  createReady,
  manifestFile,
  recordPods,
  requireResult,
  runBundle,
  withImage,
} from './kube.ts';
import { pollingRollout } from './polling-baseline.ts';
import { countByVerb, type RecordedRequest, startProxy } from './proxy.ts';
import { partitionWrites, type StageTiming, stageTimings } from './stages.ts';
import { now } from './stats.ts';

export interface ScenarioOptions {
  readonly who: 'action' | 'polling';
  readonly replicas: number;
  readonly steps: string;
  readonly soakMs: number;
  readonly podManagementPolicy?: 'OrderedReady' | 'Parallel';
  /** The pods' terminationGracePeriodSeconds (the kubelet stand-in waits min(grace, 1 s)). */
  readonly terminationGraceSeconds?: number;
  readonly measureRss?: boolean;
  readonly timeoutMs?: number;
  /** Another build of the action to run instead of dist/index.js. */
  readonly script?: string;
  readonly nodeArgs?: readonly string[];
  /** The action's `analysis` input (YAML); the pods then declare port 8080 named http. */
  readonly analysis?: string;
  /**
   * The new image crash-loops (`registry.local/app:v1-crashloop`, see the kubelet stand-in's
   * behaviourOf): the canary stage fails and the run must end rolled-back. Action only.
   */
  readonly failing?: boolean;
}

export interface ScenarioResult {
  readonly options: ScenarioOptions;
  /** The action's process (undefined for the polling baseline). */
  readonly run: BundleRun | undefined;
  /** Spawn (or baseline start) to exit (or baseline end). */
  readonly wallMs: number;
  /** Time to create the StatefulSet and see every replica Ready (before the measured rollout). */
  readonly setupMs: number;
  readonly requests: RecordedRequest[];
  readonly counts: ReturnType<typeof countByVerb>;
  /** Empty for a failing run (its partition writes are a canary and a rollback, not stages). */
  readonly stages: StageTiming[];
  /** The revision the rollout went to. */
  readonly revision: string;
  readonly startedAt: number;
  /** StatefulSet watch events as the action's watches received them through the proxy. */
  readonly statefulSetEvents: StatefulSetEvent[];
}

export interface StatefulSetEvent {
  readonly at: number;
  readonly generation: number;
  readonly observedGeneration: number;
  readonly updateRevision: string;
}

/**
 * The controller's time to observe the new template: from the freeze (the server-side apply of
 * the new template with the partition held) to the first StatefulSet event the action received
 * with observedGeneration >= generation and the final updateRevision.
 */
export function controllerObserveMs(r: ScenarioResult, revision: string): number | undefined {
  const freeze = r.requests.find(
    (q) =>
      q.verb === 'patch' &&
      q.resource === 'statefulsets' &&
      q.contentType.startsWith('application/apply-patch') &&
      !q.query.has('dryRun'),
  );
  if (!freeze) return undefined;
  const seen = r.statefulSetEvents.find(
    (e) => e.at > freeze.at && e.observedGeneration >= e.generation && e.updateRevision === revision,
  );
  return seen ? seen.at - freeze.at : undefined;
}

export async function rolloutScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const timeoutMs = o.timeoutMs ?? 600_000;
  const ns = await benchNamespace(`${o.who}-${o.replicas}`);
  const proxy = await startProxy(await adminKubeConfig(), mkdtempSync(join(tmpdir(), 'bench-kc-')));
  try {
    const setupStart = now();
    const base = await createReady(
      ns,
      {
        name: 'web',
        replicas: o.replicas,
        image: 'registry.local/app:v0',
        podManagementPolicy: o.podManagementPolicy ?? 'OrderedReady',
        ...(o.analysis ? { ports: [{ name: 'http', containerPort: 8080 }] } : {}),
      },
      timeoutMs,
      o.terminationGraceSeconds,
    );
    const setupMs = now() - setupStart;
    const pods = await recordPods(ns);
    try {
      proxy.reset();
      const statefulSetEvents: StatefulSetEvent[] = [];
      proxy.onWatchEvent((request, at, type, object) => {
        if (request.resource !== 'statefulsets' || (type !== 'ADDED' && type !== 'MODIFIED')) return;
        const sts = object as V1StatefulSet;
        statefulSetEvents.push({
          at,
          generation: sts.metadata?.generation ?? 0,
          observedGeneration: sts.status?.observedGeneration ?? 0,
          updateRevision: sts.status?.updateRevision ?? '',
        });
      });
      const kubeconfig = proxy.kubeconfigFor(ns.name);
      const startedAt = now();
      let run: BundleRun | undefined;
      let wallMs: number;
      if (o.who === 'action') {
        const image = o.failing ? 'registry.local/app:v1-crashloop' : 'registry.local/app:v1';
        run = await runBundle({
          kubeconfig,
          inputs: {
            manifests: manifestFile(withImage(base, image)),
            steps: o.steps,
            soak: `${o.soakMs}ms`,
            'stage-timeout': '10m',
            ...(o.analysis ? { analysis: o.analysis } : {}),
          },
          timeoutMs,
          measureRss: o.measureRss,
          script: o.script,
          nodeArgs: o.nodeArgs,
        });
        requireResult(run, `rollout of ${o.replicas} replicas`, o.failing ? 'rolled-back' : 'succeeded');
        wallMs = run.exitedAt - run.spawnedAt;
      } else {
        const r = await pollingRollout({
          kubeconfig,
          namespace: ns.name,
          name: 'web',
          image: 'registry.local/app:v1',
          steps: o.steps,
          soakMs: o.soakMs,
          timeoutMs,
        });
        wallMs = r.endedAt - r.startedAt;
      }
      proxy.onWatchEvent(undefined);
      const requests = [...proxy.requests];
      const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
      const sts = await apps.readNamespacedStatefulSet({ namespace: ns.name, name: 'web' });
      const revision = sts.status?.updateRevision ?? '';
      const stages = o.failing
        ? []
        : stageTimings(partitionWrites(requests, 'web'), pods.lives, revision, o.replicas, o.soakMs);
      return {
        options: o,
        run,
        wallMs,
        setupMs,
        requests,
        counts: countByVerb(requests),
        stages,
        startedAt,
        statefulSetEvents,
        revision,
      };
    } finally {
      pods.stop();
    }
  } finally {
    await proxy.close();
    await ns.cleanup();
  }
}
