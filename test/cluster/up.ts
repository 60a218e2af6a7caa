// `npm run cluster:up`: starts the local control plane (or reuses a running
// one) and prints where it is, its version and how long the start took.
import { ensureClusterUp } from './lifecycle.ts';
import { kubeconfigFile } from './state.ts';

try {
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
} catch (error) {
  console.error(`cluster:up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
