// API plumbing for the kubelet stand-in: bounded concurrency, retries of
// transient failures, and the Node object it "runs".

import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, type CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function log(message: string): void {
  console.log(`${new Date().toISOString()} ${message}`);
}

// A burst of hundreds of pods must not open hundreds of sockets at once.
const maxInFlight = 64;
let inFlight = 0;
const waiting: (() => void)[] = [];

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  while (inFlight >= maxInFlight) await new Promise<void>((wake) => waiting.push(wake));
  inFlight++;
  try {
    return await fn();
  } finally {
    inFlight--;
    waiting.shift()?.();
  }
}

function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * Runs an API call with retries of 429, 5xx and network errors. Returns
 * 'gone' on 404 and 409 (the pod was deleted or replaced meanwhile: nothing to
 * do), 'failed' after logging anything else.
 */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T | 'gone' | 'failed'> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await limited(fn);
    } catch (error) {
      const code = statusCode(error);
      if (code === 404 || code === 409) return 'gone';
      const transient = code === undefined || code === 429 || code >= 500;
      if (!transient || attempt >= 5) {
        const body = error instanceof ApiException ? String(error.body) : String(error);
        log(`error: ${what} failed (${code ?? 'network'}): ${body.slice(0, 300)}`);
        return 'failed';
      }
      await sleep(100 * 2 ** attempt);
    }
  }
}

const kubeNow = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const readySince = kubeNow();

function nodeStatus(): Record<string, unknown> {
  const now = kubeNow();
  const resources = { cpu: '1000', memory: '1000Gi', pods: '100000', 'ephemeral-storage': '1000Gi' };
  return {
    capacity: resources,
    allocatable: resources,
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'localhost' },
    ],
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'kubelet stand-in is watching pods',
        lastHeartbeatTime: now,
        lastTransitionTime: readySince,
      },
    ],
  };
}

/** Creates the Node if missing and marks it Ready; call again as a heartbeat. */
export async function ensureNodeReady(core: CoreV1Api, name: string): Promise<void> {
  const created = await call(`create Node ${name}`, () =>
    core.createNode({
      body: {
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: {},
      },
    }),
  );
  if (created === 'failed') throw new Error(`could not create Node ${name}`);
  const patched = await call(`patch Node ${name} status`, () =>
    core.patchNodeStatus({ name, body: { status: nodeStatus() } }, mergePatch),
  );
  if (patched === 'failed' || patched === 'gone') throw new Error(`could not mark Node ${name} Ready`);
  if (created !== 'gone') {
    // The TaintNodesByCondition admission plugin taints a new Node not-ready; the node lifecycle
    // controller (not run here) would lift the taint once the Node is Ready. A scheduler would
    // place no pod on it.
    const untainted = await call(`lift the not-ready taint of Node ${name}`, () =>
      core.patchNode({ name, body: { spec: { taints: null } } }, mergePatch),
    );
    if (untainted === 'failed') throw new Error(`could not lift the not-ready taint of Node ${name}`);
  }
}
