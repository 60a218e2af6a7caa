// The engine run of the reliability and security tests: test/support/run-action.ts runEngine,
// with any kubeconfig (a fault proxy's, a least-privilege service account's) and a record of
// every retry the Kubernetes adapters made.
import type { RetryEvent } from '../../../src/adapters/kubernetes/retry.ts';

export { type ActionRun as EngineRun, type EngineOptions, runEngine } from '../run-action.ts';

/** "apply StatefulSet x/db: 500 InternalError" lines, for failure messages. */
export function describeRetries(retries: readonly RetryEvent[]): string {
  return retries
    .map((r) => `${r.operation.verb} ${r.operation.kind}: ${r.error.status} ${r.error.reason}`)
    .join('\n');
}
