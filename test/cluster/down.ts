// `npm run cluster:down`: stops every process `cluster:up` started, by pid, and removes .cluster.
import { stopCluster } from './lifecycle.ts';

try {
  const { stopped } = await stopCluster();
  console.log(
    stopped.length === 0
      ? 'no cluster processes were running; state removed'
      : `stopped ${stopped.map((p) => `${p.name}=${p.pid}`).join(' ')}; state removed`,
  );
} catch (error) {
  console.error(`cluster:down failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
