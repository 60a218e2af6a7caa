// `npm test`: lint, type check, then every unit and integration test in one
// `node --test` run (one closing summary) against the local control plane.
// Starts the cluster when none is up and stops it afterwards only if it
// started it, also on failure and Ctrl-C. Exit code: the first failing step's.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './cluster/control-plane/state.ts';
import { ensureClusterUp, stopCluster } from './cluster/lifecycle.ts';

const bin = (tool: string): string => join(repoRoot, 'node_modules/.bin', tool);
/** Each step's time, and its exit code when it ran as a process. */
const timings: [string, number, number?][] = [];
let current: ChildProcess | undefined;
let startedCluster = false;
let interrupted = false;

function run(step: string, command: string, args: string[]): Promise<number> {
  const begin = Date.now();
  console.log(`\n▶ ${step}: ${[command.replace(`${repoRoot}/`, ''), ...args].join(' ')}`);
  return new Promise((resolveCode) => {
    current = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    current.on('error', (error) => {
      console.error(`${step} could not start: ${error.message}`);
      resolveCode(127);
    });
    current.on('close', (code, signal) => {
      current = undefined;
      const exit = code ?? (signal ? 128 + 2 : 1);
      timings.push([step, Date.now() - begin, exit]);
      resolveCode(exit);
    });
  });
}

async function timed<T>(step: string, body: () => Promise<T>): Promise<T> {
  const begin = Date.now();
  try {
    return await body();
  } finally {
    timings.push([step, Date.now() - begin]);
  }
}

async function stopIfStarted(): Promise<void> {
  if (!startedCluster) return;
  startedCluster = false;
  await timed('cluster:down', async () => {
    const { stopped } = await stopCluster();
    console.log(`\nstopped the cluster this run started (${stopped.length} processes)`);
  });
}

function printTimings(total: number): void {
  console.log('\ntimings:');
  for (const [step, ms, exit] of timings)
    console.log(
      `  ${step.padEnd(14)} ${(ms / 1000).toFixed(1).padStart(7)} s${exit ? `   failed (exit ${exit})` : ''}`,
    );
  console.log(`  ${'total'.padEnd(14)} ${(total / 1000).toFixed(1).padStart(7)} s`);
  // A failed lint or type check does not stop the tests, so its output may be far above: name it.
  const failed = timings.filter(([, , exit]) => exit).map(([step]) => step);
  if (failed.length > 0) console.log(`\nfailed steps: ${failed.join(', ')} (their output is above)`);
}

async function main(): Promise<number> {
  const codes: number[] = [];
  codes.push(await run('lint', bin('biome'), ['check', '.']));
  // Unused files, exports and dependencies (knip.jsonc): dead code fails the run.
  codes.push(await run('lint:unused', bin('knip'), []));
  codes.push(await run('typecheck', bin('tsc'), ['--noEmit', '-p', '.']));
  if (interrupted) return 130;
  // Prometheus (test/cluster/build/build-prometheus.sh), which starts with the cluster: a no-op when
  // cached, a cold Go build of about 3 minutes otherwise, in a step of its own so its time shows.
  const prometheus = await run('prometheus', 'bash', [
    join(repoRoot, 'test/cluster/build/build-prometheus.sh'),
  ]);
  codes.push(prometheus);
  if (interrupted || prometheus !== 0) return interrupted ? 130 : prometheus;
  const up = await timed('cluster:up', ensureClusterUp);
  startedCluster = up.started;
  console.log(
    `\n${up.started ? 'started' : 'reusing'} the local cluster: Kubernetes ${up.version} at ${up.state.apiServerUrl}`,
  );
  if (interrupted) return 130;
  // Flux's applier for the apply: false tests (test/cluster/build/fluxapply): a no-op when cached, a
  // cold Go build of a few minutes otherwise, run here so no test's timeout includes it.
  codes.push(await run('fluxapply', 'bash', [join(repoRoot, 'test/cluster/build/build-fluxapply.sh')]));
  if (interrupted) return 130;
  // What the real nodes run beside the kubelet (test/cluster/build/build-node.sh: containerd, runc,
  // CNI plugins, images) for test/integration/real-node.test.ts: a no-op when cached, else about
  // 3 minutes, here so no test's timeout includes it.
  codes.push(await run('node', 'bash', [join(repoRoot, 'test/cluster/build/build-node.sh')]));
  if (interrupted) return 130;
  // krew (test/cluster/build/build-krew.sh) for test/integration/cli-forms.test.ts: a no-op when
  // cached, else about 10 s, here so a failure to build it prints its reason in the CI log.
  codes.push(await run('krew', 'bash', [join(repoRoot, 'test/cluster/build/build-krew.sh')]));
  if (interrupted) return 130;
  codes.push(
    await run('tests', process.execPath, [
      '--test',
      '--test-reporter=spec',
      '--test-concurrency=2',
      // A hung test must fail the run, not stall CI until its 90-minute limit.
      '--test-timeout=300000',
      'test/unit/**/*.test.ts',
      'test/integration/**/*.test.ts',
    ]),
  );
  return interrupted ? 130 : (codes.find((c) => c !== 0) ?? 0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    current?.kill(signal);
  });
}

const begin = Date.now();
let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  console.error(`npm test failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await stopIfStarted().catch((error: unknown) =>
    console.error(`could not stop the cluster: ${String(error)}`),
  );
  printTimings(Date.now() - begin);
}
process.exit(exitCode);
