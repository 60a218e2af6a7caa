// Runs the action's engine in-process with a given kubeconfig (e.g. one that goes through the
// fault proxy, or a least-privilege service account's) and counts every retry the Kubernetes
// adapters make, through the onRetry hook of the one retry policy.
import type { KubeConfig } from '@kubernetes/client-node';
import { createCluster } from '../../src/adapters/kubernetes/cluster.ts';
import { createLock } from '../../src/adapters/kubernetes/lock.ts';
import type { RetryEvent } from '../../src/adapters/kubernetes/retry.ts';
import { execute, type Outcome } from '../../src/app.ts';
import { readSettings } from '../../src/inputs.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { Log } from '../../src/ports/reporter.ts';

export interface EngineRun {
  readonly outcome: Outcome;
  readonly logs: string[];
  readonly retries: RetryEvent[];
}

export interface EngineOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly inputs: Record<string, string>;
  readonly runUrl?: string;
  readonly signal?: AbortSignal;
}

export async function runEngine(options: EngineOptions): Promise<EngineRun> {
  const logs: string[] = [];
  const retries: RetryEvent[] = [];
  const onRetry = (event: RetryEvent): void => {
    retries.push(event);
  };
  const settings = readSettings((name) => options.inputs[name] ?? '');
  const log: Log = {
    info: (m) => logs.push(m),
    notice: (m) => logs.push(`notice: ${m}`),
    warning: (m) => logs.push(`warning: ${m}`),
    debug: () => undefined,
    startGroup: (t) => logs.push(`group: ${t}`),
    endGroup: () => undefined,
  };
  const outcome = await execute(
    settings,
    {
      cluster: createCluster({
        kubeConfig: options.kubeConfig,
        fieldManager: settings.fieldManager,
        onRetry,
      }),
      lock: createLock(options.kubeConfig, { onRetry }),
      clock: systemClock,
      log,
      reporterFor: () => ({ update: async () => undefined }),
      defaultNamespace: options.namespace,
      cwd: process.cwd(),
    },
    {
      contextName: 'local',
      runUrl: options.runUrl ?? 'https://github.com/o/r/actions/runs/1',
      commit: 'abc123',
      pullRequest: undefined,
    },
    options.signal ?? new AbortController().signal,
  );
  return { outcome, logs, retries };
}

/** "apply StatefulSet x/db: 500 InternalError" lines, for failure messages. */
export function describeRetries(retries: readonly RetryEvent[]): string {
  return retries
    .map((r) => `${r.operation.verb} ${r.operation.kind}: ${r.error.status} ${r.error.reason}`)
    .join('\n');
}
