// The GitOps appliers the apply: false tests stand beside.
//
// Argo CD with ServerSideApply=true applies like `kubectl apply --server-side --force-conflicts
// --field-manager=argocd-controller`: one server-side apply patch per object, forced, under its
// own field manager; that is exactly the request argoSync sends (through the project's own
// apply, with Argo CD's manager name).
//
// Flux's kustomize-controller applies with its own library, github.com/fluxcd/pkg/ssa: fluxSync
// runs test/cluster/build/fluxapply, a small Go program on that library with kustomize-controller's
// field manager and apply options (drift check by dry-run, staged apply, kubectl's managers
// cleaned up). test/cluster/build/build-fluxapply.sh builds it into the cache on first use.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { createCluster } from '../../src/adapters/kubernetes/cluster.ts';
import type { KubeObject } from '../../src/ports/cluster.ts';
import { runBuildScript } from '../cluster/build/build-script.ts';

export const ARGO_MANAGER = 'argocd-controller';
export const FLUX_MANAGER = 'kustomize-controller';

/** Applies `objects` as Argo CD's controller does with ServerSideApply=true. */
export async function argoSync(
  kubeConfig: KubeConfig,
  namespace: string,
  objects: readonly object[],
): Promise<void> {
  const argo = createCluster({ kubeConfig, fieldManager: ARGO_MANAGER, defaultNamespace: namespace });
  await argo.apply(objects as KubeObject[], { dryRun: false });
}

let built: Promise<string> | undefined;

/**
 * The fluxapply binary, built by test/cluster/build/build-fluxapply.sh when it is not cached yet (a
 * cold build takes minutes: its progress lines go to stderr). Built once per process.
 */
export function fluxApplyBinary(): Promise<string> {
  built ??= runBuildScript('build-fluxapply.sh').then((binary) => {
    if (!binary) throw new Error('test/cluster/build/build-fluxapply.sh printed no binary path');
    return binary;
  });
  return built;
}

/**
 * Applies `objects` as Flux's kustomize-controller does (namespaced objects without a namespace
 * go to `namespace`, as a Kustomization's targetNamespace). Resolves to its change set, one line
 * per object (`StatefulSet/ns/db configured`, `... unchanged`).
 */
export async function fluxSync(
  kubeconfigPath: string,
  namespace: string,
  objects: readonly object[],
): Promise<string[]> {
  const binary = await fluxApplyBinary();
  const dir = mkdtempSync(join(tmpdir(), 'sts-canary-flux-'));
  const file = join(dir, 'manifests.yaml');
  writeFileSync(file, objects.map((o) => dump(o)).join('---\n'));
  try {
    const stdout = await new Promise<string>((resolveOut, reject) => {
      execFile(
        binary,
        ['--kubeconfig', kubeconfigPath, '--namespace', namespace, file],
        (error, out, stderr) => {
          if (error) reject(new Error(`fluxapply failed: ${stderr.trim() || error.message}`));
          else resolveOut(out);
        },
      );
    });
    return stdout.split('\n').filter((line) => line !== '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
