// Helpers for integration tests against the local control plane started by
// `npm run cluster:up` (or by `npm test`, which starts it when needed).
//
//   const ns = await freshNamespace('rollout');
//   after(() => ns.cleanup());
//   const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
//   await apps.createNamespacedStatefulSet({ namespace: ns.name, body: statefulSet({ name: 'web' }) });
//   await waitFor(async () => (await readSts()).status?.readyReplicas === 3, 10_000, 'web to be Ready');

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoreV1Api,
  KubeConfig,
  type V1ContainerPort,
  type V1Pod,
  type V1StatefulSet,
  Watch,
} from '@kubernetes/client-node';
import { clusterDir, isClusterUp, kubeconfigFile, readState } from './control-plane/state.ts';

export { nodeName } from './control-plane/state.ts';
export { readyAfterAnnotation, terminationMessageAnnotation } from './kubelet/kubelet-status.ts';

let reachable: Promise<void> | undefined;

/** Absolute path of the admin kubeconfig (context `local`); throws when the cluster is not up. */
export async function clusterKubeconfigPath(): Promise<string> {
  reachable ??= (async () => {
    if (!existsSync(kubeconfigFile) || !(await isClusterUp(readState()))) {
      throw new Error('local cluster is not up: run `npm run cluster:up`');
    }
  })();
  await reachable;
  return kubeconfigFile;
}

export async function adminKubeConfig(): Promise<KubeConfig> {
  const kc = new KubeConfig();
  kc.loadFromFile(await clusterKubeconfigPath());
  return kc;
}

export interface TestNamespace {
  name: string;
  /** Admin credentials; the current context's namespace is `name`. */
  kubeConfig: KubeConfig;
  /** A kubeconfig file whose context namespace is `name` (for the CLI and child processes). */
  kubeconfigPath: string;
  /** Deletes the namespace without waiting for it to finish terminating. */
  cleanup(): Promise<void>;
}

/** Creates a uniquely named namespace `<prefix>-<random>`. */
export async function freshNamespace(prefix: string): Promise<TestNamespace> {
  const base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  const name = `${base || 'test'}-${randomBytes(4).toString('hex')}`;
  const kubeConfig = await adminKubeConfig();
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({
    body: { metadata: { name, labels: { 'statefulset-canary.test/harness': 'true' } } },
  });
  kubeConfig.contexts = kubeConfig.contexts.map((c) => (c.name === 'local' ? { ...c, namespace: name } : c));
  const dir = join(clusterDir, 'namespaces');
  mkdirSync(dir, { recursive: true });
  const kubeconfigPath = join(dir, `${name}.kubeconfig`);
  writeFileSync(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });
  return {
    name,
    kubeConfig,
    kubeconfigPath,
    async cleanup() {
      rmSync(kubeconfigPath, { force: true });
      for (const f of readdirSync(dir)) if (f.startsWith(`${name}.`)) rmSync(join(dir, f), { force: true });
      await core.deleteNamespace({ name, propagationPolicy: 'Background' }).catch((error: unknown) => {
        if ((error as { code?: number }).code !== 404) throw error;
      });
    },
  };
}

export interface ServiceAccountCredentials {
  token: string;
  /** Authenticates as system:serviceaccount:<namespace>:<name>; context namespace is the test namespace. */
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
}

/**
 * Creates ServiceAccount `name` in the test namespace (if missing) and mints a
 * token for it through the TokenRequest API, so a test can check what exactly
 * that identity may do under RBAC. The kubeconfig file is removed by cleanup()
 * together with the namespace's.
 */
export async function serviceAccountCredentials(
  ns: TestNamespace,
  name: string,
  expirationSeconds = 3600,
): Promise<ServiceAccountCredentials> {
  const core = ns.kubeConfig.makeApiClient(CoreV1Api);
  await core
    .createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name } } })
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace: ns.name,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ServiceAccount ${ns.name}/${name} returned no token`);
  const cluster = ns.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token }],
    contexts: [{ name: 'local', cluster: cluster.name, user: name, namespace: ns.name }],
    currentContext: 'local',
  });
  const kubeconfigPath = join(clusterDir, 'namespaces', `${ns.name}.${name}.kubeconfig`);
  writeFileSync(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });
  return { token, kubeConfig, kubeconfigPath };
}

/** Polls `predicate` every `intervalMs` until it returns true; fails naming `what` and the last error. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}

export interface StatefulSetOptions {
  name: string;
  replicas?: number;
  image?: string;
  partition?: number;
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  minReadySeconds?: number;
  /** Pod template annotations, e.g. { [readyAfterAnnotation]: '2s' }. */
  podAnnotations?: Record<string, string>;
  /**
   * Ports of container `app`, e.g. [{ name: 'http', containerPort: 8080 }]: the pod proxy and the
   * stand-in's pod network reach the pod's simulated app only on a declared port.
   */
  ports?: V1ContainerPort[];
}

/** A minimal StatefulSet (label app=<name>, one container `app`) for tests. */
export function statefulSet(o: StatefulSetOptions): V1StatefulSet {
  const labels = { app: o.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: o.name, labels },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: o.name,
      selector: { matchLabels: labels },
      podManagementPolicy: o.podManagementPolicy ?? 'OrderedReady',
      minReadySeconds: o.minReadySeconds ?? 0,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0 } },
      template: {
        metadata: { labels, annotations: o.podAnnotations ?? {} },
        spec: {
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'app',
              image: o.image ?? 'registry.local/app:v1',
              ...(o.ports ? { ports: o.ports } : {}),
            },
          ],
        },
      },
    },
  };
}

/**
 * Watches the pods of a namespace and calls `onEvent` for each event until
 * `stop()` is called. Resolves once the watch is open, so nothing after the
 * call is missed. Tests use it to record the order of changes.
 */
export async function watchPods(
  kubeConfig: KubeConfig,
  namespace: string,
  onEvent: (type: string, pod: V1Pod) => void,
): Promise<{ stop(): void }> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedPod({ namespace });
  let controller: AbortController | undefined;
  let stopped = false;
  const open = async (rv: string | undefined): Promise<void> => {
    let last = rv;
    controller = await new Watch(kubeConfig).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { resourceVersion: last, allowWatchBookmarks: true },
      (type: string, pod: V1Pod) => {
        last = pod.metadata?.resourceVersion ?? last;
        if (type !== 'BOOKMARK' && type !== 'ERROR') onEvent(type, pod);
      },
      // An idle watch ends after 30 s: resume from the last event seen.
      () => {
        if (!stopped) void open(last);
      },
    );
  };
  await open(list.metadata?.resourceVersion);
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
