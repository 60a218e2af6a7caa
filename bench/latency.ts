// Figure 1, stage-decision latency: from the moment a stage's gate can first pass (its last pod
// seen Ready by an independent watch, plus the soak) to the next partition write as the recording
// proxy received it. The action runs as the bundle (dist/index.js) in a child process; the polling
// baseline (bench/polling-baseline.ts) runs on the same StatefulSet afterwards.
//   node bench/latency.ts [--action-rollouts 3] [--polling-rollouts 3]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppsV1Api, type V1Pod } from '@kubernetes/client-node';
import { adminKubeConfig, type TestNamespace } from '../test/cluster/harness.ts';
import {
  benchNamespace,
  createReady,
  manifestFile,
  observePod,
  type PodLife,
  recordPods,
  requireResult,
  runBundle,
  withImage,
} from './kube.ts';
import { pollingRollout } from './polling-baseline.ts';
import { type RecordingProxy, startProxy } from './proxy.ts';
import { latencies, partitionWrites, type StageTiming, stageTimings } from './stages.ts';
import { type Figure, load, median, ms, percentile, printFigure, round, verdict } from './stats.ts';

export interface LatencyOptions {
  readonly actionRollouts?: number;
  readonly pollingRollouts?: number;
  readonly replicas?: number;
  readonly soakMs?: number;
}

async function updateRevision(ns: TestNamespace, name: string): Promise<string> {
  const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
  const sts = await apps.readNamespacedStatefulSet({ namespace: ns.name, name });
  return sts.status?.updateRevision ?? '';
}

interface Run {
  readonly who: 'action' | 'polling';
  readonly stages: StageTiming[];
  /** The same stages with Ready times as the action's own pod watch delivered them (action only). */
  readonly asSeen: StageTiming[];
}

/** Pod lives as the events of the action's pod watches passed through the proxy. */
function recordActionView(proxy: RecordingProxy): Map<string, PodLife> {
  const lives = new Map<string, PodLife>();
  proxy.onWatchEvent((request, t, type, object) => {
    if (request.resource === 'pods' && (type === 'ADDED' || type === 'MODIFIED')) {
      observePod(lives, object as V1Pod, t);
    }
  });
  return lives;
}

async function oneRun(
  who: Run['who'],
  ns: TestNamespace,
  proxy: RecordingProxy,
  lives: Map<string, PodLife>,
  image: string,
  o: Required<LatencyOptions>,
): Promise<Run> {
  const name = 'web';
  const steps = Array.from({ length: o.replicas }, (_, i) => String(i + 1)).join(',');
  const kubeconfig = proxy.kubeconfigFor(ns.name);
  const base = (
    await ns.kubeConfig.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ namespace: ns.name, name })
  ).spec;
  proxy.reset();
  const seen = recordActionView(proxy);
  if (who === 'action') {
    const object = withImage(
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, labels: { app: name } }, spec: base },
      image,
    );
    const run = await runBundle({
      kubeconfig,
      inputs: { manifests: manifestFile(object), steps, soak: `${o.soakMs}ms`, 'stage-timeout': '2m' },
      timeoutMs: 300_000,
    });
    requireResult(run, `latency rollout to ${image}`);
  } else {
    await pollingRollout({
      kubeconfig,
      namespace: ns.name,
      name,
      image,
      steps,
      soakMs: o.soakMs,
      timeoutMs: 300_000,
    });
  }
  proxy.onWatchEvent(undefined);
  const revision = await updateRevision(ns, name);
  const writes = partitionWrites(proxy.requests, name);
  return {
    who,
    stages: stageTimings(writes, lives, revision, o.replicas, o.soakMs),
    asSeen: who === 'action' ? stageTimings(writes, seen, revision, o.replicas, o.soakMs) : [],
  };
}

export async function measureLatency(options: LatencyOptions = {}): Promise<Figure> {
  const o: Required<LatencyOptions> = {
    actionRollouts: options.actionRollouts ?? 3,
    pollingRollouts: options.pollingRollouts ?? 3,
    replicas: options.replicas ?? 10,
    soakMs: options.soakMs ?? 2000,
  };
  const loadBefore = load();
  const ns = await benchNamespace('latency');
  const proxy = await startProxy(await adminKubeConfig(), mkdtempSync(join(tmpdir(), 'bench-kc-')));
  const runs: Run[] = [];
  try {
    await createReady(ns, { name: 'web', replicas: o.replicas, image: 'registry.local/app:v0' });
    const pods = await recordPods(ns);
    try {
      let version = 1;
      for (let i = 0; i < o.actionRollouts; i++)
        runs.push(await oneRun('action', ns, proxy, pods.lives, `registry.local/app:v${version++}`, o));
      for (let i = 0; i < o.pollingRollouts; i++)
        runs.push(await oneRun('polling', ns, proxy, pods.lives, `registry.local/app:v${version++}`, o));
    } finally {
      pods.stop();
    }
  } finally {
    await proxy.close();
    await ns.cleanup();
  }
  const of = (who: Run['who']) => runs.filter((r) => r.who === who).flatMap((r) => latencies(r.stages));
  const action = of('action');
  const polling = of('polling');
  const asSeen = runs.flatMap((r) => latencies(r.asSeen));
  const rows: [string, string, string, string][] = [];
  if (action.length > 0) {
    rows.push(
      [`action: median (n=${action.length})`, ms(median(action)), '< 50 ms', verdict(median(action) < 50)],
      ['action: p95', ms(percentile(action, 95)), '< 200 ms', verdict(percentile(action, 95) < 200)],
      ['action: min / max', `${ms(Math.min(...action))} / ${ms(Math.max(...action))}`, '', '-'],
      ['action, Ready as its own watch got it: median', ms(median(asSeen)), '', '-'],
      ['action, Ready as its own watch got it: p95', ms(percentile(asSeen, 95)), '', '-'],
    );
  }
  if (polling.length > 0) {
    rows.push(
      [`polling 2 s: median (n=${polling.length})`, ms(median(polling)), '(baseline)', '-'],
      ['polling 2 s: p95', ms(percentile(polling, 95)), '(baseline)', '-'],
    );
  }
  return {
    id: 'latency',
    title: `1. Stage-decision latency (${o.replicas} replicas, steps 1,2,...,${o.replicas}, soak ${o.soakMs} ms)`,
    rows,
    loadBefore,
    loadAfter: load(),
    details: {
      ...o,
      actionLatenciesMs: action.map((v) => round(v, 2)),
      actionLatenciesAsSeenMs: asSeen.map((v) => round(v, 2)),
      pollingLatenciesMs: polling.map((v) => round(v, 2)),
      controllerMsPerStage: runs.map((r) => ({
        who: r.who,
        ms: r.stages.map((s) => Math.round(s.controllerMs)),
      })),
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { 'action-rollouts': { type: 'string' }, 'polling-rollouts': { type: 'string' } },
  });
  printFigure(
    await measureLatency({
      actionRollouts: values['action-rollouts'] === undefined ? undefined : Number(values['action-rollouts']),
      pollingRollouts:
        values['polling-rollouts'] === undefined ? undefined : Number(values['polling-rollouts']),
    }),
  );
}
