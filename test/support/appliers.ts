// The GitOps appliers the apply: false tests stand beside. Argo CD with ServerSideApply=true
// applies like `kubectl apply --server-side --force-conflicts --field-manager=argocd-controller`:
// one server-side apply patch per object, forced, under its own field manager; that is exactly
// the request this sends (through the project's own apply, with Argo CD's manager name).
import type { KubeConfig } from '@kubernetes/client-node';
import { createCluster } from '../../src/adapters/kubernetes/cluster.ts';
import type { KubeObject } from '../../src/ports/cluster.ts';

export const ARGO_MANAGER = 'argocd-controller';

/** Applies `objects` as Argo CD's controller does with ServerSideApply=true. */
export async function argoSync(
  kubeConfig: KubeConfig,
  namespace: string,
  objects: readonly object[],
): Promise<void> {
  const argo = createCluster({ kubeConfig, fieldManager: ARGO_MANAGER, defaultNamespace: namespace });
  await argo.apply(objects as KubeObject[], { dryRun: false });
}
