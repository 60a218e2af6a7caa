// `npm run cluster:up`: starts the local control plane (or reuses a running
// one) and prints where it is, its version and how long the start took.
// `npm run cluster:up -- --restart-kubelet` replaces only the kubelet stand-in
// (after editing its code) and keeps everything else running.

import { kubeconfigFile } from './control-plane/state.ts';
import { ensureClusterUp, restartKubelet } from './lifecycle.ts';

async function main(): Promise<void> {
  if (process.argv.includes('--restart-kubelet')) {
    const kubelet = await restartKubelet();
    console.log(`kubelet stand-in restarted: pid ${kubelet.pid}`);
    return;
  }
  const up = await ensureClusterUp();
  const seconds = (up.elapsedMs / 1000).toFixed(1);
  console.log(
    up.started
      ? `cluster started in ${seconds} s`
      : `cluster already up (since ${up.state.startedAt}): reusing it`,
  );
  console.log(`server:     ${up.state.apiServerUrl} (Kubernetes ${up.version})`);
  console.log(`started at: ${up.state.startedAt}`);
  console.log(`kubeconfig: ${kubeconfigFile} (context local)`);
  console.log(`processes:  ${up.state.processes.map((p) => `${p.name}=${p.pid}`).join(' ')}`);
}

try {
  await main();
} catch (error) {
  console.error(`cluster:up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
