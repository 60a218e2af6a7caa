// Cluster-side helpers for the benchmarks: a namespace per run, StatefulSets created directly
// (not through the action), an independent pod watch that timestamps Ready transitions, and the
// bundled action run as a child process the way a runner runs it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, type V1Pod, type V1StatefulSet } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { repoRoot } from '../test/cluster/control-plane/state.ts';
import {
  freshNamespace,
  type StatefulSetOptions,
  statefulSet,
  type TestNamespace,
  watchPods,
} from '../test/cluster/harness.ts';
import { now } from './stats.ts';

export { repoRoot };
export const nodeBinary = realpathSync(join(repoRoot, 'node_modules/.bin/node'));
export const bundle = join(repoRoot, 'dist/index.js');

export function benchNamespace(prefix: string): Promise<TestNamespace> {
  return freshNamespace(`bench-${prefix}`);
}

/** Creates the StatefulSet and waits (at most `timeoutMs`) until every replica is Ready and current. */
export async function createReady(
  ns: TestNamespace,
  options: StatefulSetOptions,
  timeoutMs = 300_000,
  terminationGraceSeconds?: number,
): Promise<V1StatefulSet> {
  const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
  const body = statefulSet(options);
  const podSpec = body.spec?.template.spec;
  if (podSpec && terminationGraceSeconds !== undefined)
    podSpec.terminationGracePeriodSeconds = terminationGraceSeconds;
  await apps.createNamespacedStatefulSet({ namespace: ns.name, body });
  await waitForSettled(ns, options.name, timeoutMs);
  return body;
}

/** Waits until the StatefulSet's replicas are all Ready on one revision. */
export async function waitForSettled(ns: TestNamespace, name: string, timeoutMs: number): Promise<void> {
  const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const sts = await apps.readNamespacedStatefulSet({ namespace: ns.name, name });
    const s = sts.status;
    const replicas = sts.spec?.replicas ?? 0;
    if (
      s &&
      (s.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0) &&
      s.readyReplicas === replicas &&
      s.currentRevision === s.updateRevision &&
      s.updatedReplicas === replicas
    )
      return;
    await sleep(250);
  }
  throw new Error(`bench: ${ns.name}/${name} did not settle within ${timeoutMs} ms`);
}

export function manifestFile(object: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-manifest-'));
  const path = join(dir, 'statefulset.yaml');
  writeFileSync(path, dump(object));
  return path;
}

/** A copy of `sts` with another image (a new revision). */
export function withImage(sts: V1StatefulSet, image: string): V1StatefulSet {
  const copy = structuredClone(sts);
  const container = copy.spec?.template.spec?.containers[0];
  if (container) container.image = image;
  return copy;
}

export interface PodLife {
  readonly name: string;
  readonly uid: string;
  readonly revision: string;
  /** When our watch first saw the pod (epoch ms). */
  readonly seenAt: number;
  /** When our watch first saw it Ready, if it did. */
  readyAt: number | undefined;
}

function isReady(pod: V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** Folds one observation of a pod at time `t` into `lives` (keyed by uid). */
export function observePod(lives: Map<string, PodLife>, pod: V1Pod, t: number): void {
  const uid = pod.metadata?.uid ?? '';
  let life = lives.get(uid);
  if (!life) {
    life = {
      name: pod.metadata?.name ?? '',
      uid,
      revision: pod.metadata?.labels?.['controller-revision-hash'] ?? '',
      seenAt: t,
      readyAt: undefined,
    };
    lives.set(uid, life);
  }
  if (life.readyAt === undefined && isReady(pod)) life.readyAt = t;
}

/** Watches the namespace's pods (directly, not through the proxy) and records each pod's life by uid. */
export async function recordPods(ns: TestNamespace): Promise<{ lives: Map<string, PodLife>; stop(): void }> {
  const lives = new Map<string, PodLife>();
  const watcher = await watchPods(ns.kubeConfig, ns.name, (_type, pod) => observePod(lives, pod, now()));
  return { lives, stop: () => watcher.stop() };
}

/** The ordinal of a StatefulSet pod name (`web-7` -> 7). */
export function ordinalOf(name: string): number {
  return Number(name.slice(name.lastIndexOf('-') + 1));
}

export interface BundleRun {
  readonly spawnedAt: number;
  readonly exitedAt: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  /** Peak RSS in KiB from /usr/bin/time -v, when `measureRss`. */
  readonly maxRssKiB: number | undefined;
}

export interface BundleOptions {
  readonly kubeconfig: string;
  readonly inputs: Record<string, string>;
  readonly timeoutMs: number;
  readonly measureRss?: boolean;
  readonly script?: string;
  /** Node flags for the action (diagnostics such as --trace-gc). */
  readonly nodeArgs?: readonly string[];
}

/** Runs the bundled action like a runner does (INPUT_* variables, GITHUB_OUTPUT), bounded in time. */
export async function runBundle(options: BundleOptions): Promise<BundleRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-run-'));
  const outputFile = join(dir, 'github_output');
  writeFileSync(outputFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    KUBECONFIG: options.kubeconfig,
    GITHUB_OUTPUT: outputFile,
  };
  for (const [name, value] of Object.entries(options.inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const rssFile = join(dir, 'time.txt');
  const script = options.script ?? bundle;
  const [command, args] = options.measureRss
    ? ['/usr/bin/time', ['-v', '-o', rssFile, nodeBinary, ...(options.nodeArgs ?? []), script]]
    : [nodeBinary, [...(options.nodeArgs ?? []), script]];
  const spawnedAt = now();
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const exitedAt = now();
  clearTimeout(timer);
  let maxRssKiB: number | undefined;
  if (options.measureRss) {
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(rssFile, 'utf8'));
    maxRssKiB = match ? Number(match[1]) : undefined;
  }
  return { spawnedAt, exitedAt, code, stdout, stderr, outputs: readOutputs(outputFile), maxRssKiB };
}

/** Parses a GITHUB_OUTPUT file (`name<<delimiter` blocks and `name=value` lines). */
function readOutputs(file: string): Record<string, string> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const outputs: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
      outputs[name] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

/**
 * Fails the bench with the action's own output when the run did not end with `result` (and exit
 * 0 for `succeeded`; any other result fails the step, so exit 1).
 */
export function requireResult(run: BundleRun, what: string, result = 'succeeded'): void {
  if ((run.code === 0) !== (result === 'succeeded') || run.outputs.result !== result) {
    throw new Error(
      `bench: ${what}: the action exited ${run.code} with result ${run.outputs.result ?? '(none)'}\n` +
        `${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`,
    );
  }
}
