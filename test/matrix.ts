// `npm run test:matrix`: the integration suite on each tested Kubernetes release in turn, each
// on its own local control plane (K8S_VERSION selects the binaries, built and cached by
// test/cluster/build/build-binaries.sh on first use, and the cluster's state dir: .cluster-v<version>
// for every release but the default, whose shared cluster is reused and left running).
// A release's cluster that this script started is stopped again before the next one.
//
//   npm run test:matrix                         1.34.4, 1.35.4, 1.36.3 and 1.37.2
//   K8S_VERSIONS=1.36.3,1.37.2 npm run test:matrix
//   npm run test:matrix -- --cached-only        skip releases whose binaries are not built yet
//
// Prints a line per release at the end: tests, passed, failed, duration.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cluster/control-plane/state.ts';

/** The releases docs/kubernetes-versions.md lists as tested. */
const TESTED = ['1.34.4', '1.35.4', '1.36.3', '1.37.2'];

interface Row {
  version: string;
  server: string;
  tests: number;
  pass: number;
  fail: number;
  seconds: number;
  note: string;
}

let current: ChildProcess | undefined;
let interrupted = false;

/** Runs a child with the release's K8S_VERSION; its output goes through and is kept. */
function run(args: string[], version: string): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    current = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, K8S_VERSION: version },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (to: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString('utf8');
      to.write(chunk);
    };
    current.stdout?.on('data', keep(process.stdout));
    current.stderr?.on('data', keep(process.stderr));
    current.on('close', (code) => {
      current = undefined;
      resolveRun({ code: code ?? 1, output });
    });
  });
}

/** True when build-binaries.sh has the release's binaries cached (any etcd version). */
function cached(version: string): boolean {
  const root =
    process.env.STATEFULSET_CANARY_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'statefulset-canary');
  if (!existsSync(root)) return false;
  return readdirSync(root).some(
    (dir) =>
      dir.startsWith(`k8s-v${version}-etcd-`) && existsSync(join(root, dir, 'kube-controller-manager')),
  );
}

const count = (output: string, what: string): number =>
  Number(new RegExp(`^ℹ ${what} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);

async function release(version: string): Promise<Row> {
  const begin = Date.now();
  const row: Row = { version, server: '-', tests: 0, pass: 0, fail: 0, seconds: 0, note: '' };
  console.log(`\n▶ Kubernetes ${version}`);
  const up = await run(['test/cluster/up.ts'], version);
  row.server = /\(Kubernetes (v[^)]+)\)/.exec(up.output)?.[1] ?? '-';
  if (up.code !== 0) {
    row.note = 'the cluster did not start';
    row.seconds = (Date.now() - begin) / 1000;
    return row;
  }
  const started = /cluster started in/.test(up.output);
  try {
    const tests = await run(
      [
        '--test',
        '--test-reporter=spec',
        '--test-concurrency=2',
        '--test-timeout=300000',
        'test/integration/**/*.test.ts',
      ],
      version,
    );
    row.tests = count(tests.output, 'tests');
    row.pass = count(tests.output, 'pass');
    row.fail = count(tests.output, 'fail');
    if (tests.code !== 0 && row.fail === 0) row.note = `node --test exited ${tests.code}`;
  } finally {
    if (started) await run(['test/cluster/down.ts'], version);
  }
  row.seconds = (Date.now() - begin) / 1000;
  return row;
}

async function main(): Promise<number> {
  const versions = (process.env.K8S_VERSIONS ?? TESTED.join(','))
    .split(',')
    .map((v) => v.trim().replace(/^v/, ''))
    .filter(Boolean);
  const cachedOnly = process.argv.includes('--cached-only');
  const rows: Row[] = [];
  for (const version of versions) {
    if (interrupted) break;
    if (cachedOnly && !cached(version)) {
      rows.push({ version, server: '-', tests: 0, pass: 0, fail: 0, seconds: 0, note: 'skipped: not built' });
      continue;
    }
    rows.push(await release(version));
  }
  console.log('\nmatrix:');
  for (const r of rows) {
    console.log(
      `  ${r.version.padEnd(8)} ${r.server.padEnd(9)} tests ${String(r.tests).padStart(3)}  pass ${String(r.pass).padStart(3)}  ` +
        `fail ${String(r.fail).padStart(3)}  ${r.seconds.toFixed(0).padStart(5)} s${r.note ? `  ${r.note}` : ''}`,
    );
  }
  const ran = rows.filter((r) => r.note !== 'skipped: not built');
  return ran.length > 0 && ran.every((r) => r.fail === 0 && r.tests > 0 && r.note === '') ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // Stop the release in progress (its cluster is stopped if this run started it) and no other.
    interrupted = true;
    current?.kill(signal);
  });
}
process.exitCode = await main();
