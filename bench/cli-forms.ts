// Figure 7, the command line's forms (docs/cli.md): spawn -> exit of `status --json` against a
// Ready StatefulSet of the local cluster and of `--version`, median of N, for `node dist/cli.js`,
// the npm package installed from `npm pack` (its bin launcher), `npm exec` of the tarball (what
// `npx statefulset-canary@0` does once the package is in npm's cache) and the single executable;
// and the size of each. Runs interleaved, so the machine's load falls on every form alike.
//   node bench/cli-forms.ts [--runs 10]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { installCli, packCli } from '../test/support/cli-package.ts';
import { benchNamespace, createReady, nodeBinary, repoRoot } from './kube.ts';
import { type Figure, load, median, ms, now, printFigure, round, within } from './stats.ts';

function timed(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<number> {
  const start = now();
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  return within(
    new Promise<number>((resolve, reject) =>
      child.on('close', (code) =>
        code === 0
          ? resolve(now() - start)
          : reject(new Error(`${command} ${args.join(' ')}: exit ${code}\n${stderr}`)),
      ),
    ),
    60_000,
    `${command} ${args[0]}`,
  );
}

function duBytes(dir: string): number {
  let total = 0;
  const walk = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) walk(join(path, entry));
    } else total += stat.size;
  };
  walk(dir);
  return total;
}

export async function measureCliForms(runs = 10): Promise<Figure> {
  const loadBefore = load();
  const ns = await benchNamespace('cli-forms');
  const work = mkdtempSync(join(tmpdir(), 'bench-cli-forms-'));
  try {
    await createReady(ns, { name: 'web', replicas: 1, image: 'registry.local/app:v0' });
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, ns.kubeConfig.exportConfig(), { mode: 0o600 });
    const packed = packCli();
    const installed = installCli(packed.tarball);
    const seaDir = join(work, 'sea');
    await timed(nodeBinary, [join(repoRoot, 'scripts/sea.ts'), '--out', seaDir], process.env);
    const sea = join(seaDir, 'statefulset-canary-linux-x64');
    const env = { PATH: `${dirname(nodeBinary)}:/usr/bin:/bin`, HOME: work, KUBECONFIG: kubeconfig };
    const forms: [string, string, string[], string?][] = [
      ['node dist/cli.js', nodeBinary, [join(repoRoot, 'dist/cli.js')]],
      ['npm package (bin launcher)', nodeBinary, [join(installed.bin, 'statefulset-canary')]],
      [
        'npm exec of the tarball (npx)',
        'npm',
        ['exec', '--offline', '--yes', `--package=${packed.tarball}`, '--', 'statefulset-canary'],
        installed.dir,
      ],
      ['single executable', sea, []],
    ];
    const status = ['status', '--statefulset', 'web', '--json'];
    const times = new Map(forms.map(([name]) => [name, { status: [] as number[], version: [] as number[] }]));
    // One unmeasured round warms the file cache and npm's.
    for (const [, command, args, cwd] of forms) await timed(command, [...args, ...status], env, cwd);
    for (let i = 0; i < runs; i++) {
      for (const [name, command, args, cwd] of forms) {
        const t = times.get(name)!;
        t.status.push(await timed(command, [...args, ...status], env, cwd));
        t.version.push(await timed(command, [...args, '--version'], env, cwd));
      }
    }
    const sizes: [string, number][] = [
      ['npm pack tarball', packed.size],
      ['npm package installed', duBytes(join(installed.dir, 'node_modules'))],
      ['single executable', statSync(sea).size],
      ['krew archive (.tar.gz)', statSync(`${sea}.tar.gz`).size],
    ];
    rmSync(dirname(packed.tarball), { recursive: true, force: true });
    rmSync(installed.dir, { recursive: true, force: true });
    return {
      id: 'cli-forms',
      title: `7. The CLI's forms (median of ${runs})`,
      rows: [
        ...forms.flatMap(([name]): [string, string, string, string][] => {
          const t = times.get(name)!;
          return [
            [`${name}: status --json, spawn -> exit`, ms(median(t.status)), '', '-'],
            [`${name}: --version, spawn -> exit`, ms(median(t.version)), '', '-'],
          ];
        }),
        ...sizes.map(([name, bytes]): [string, string, string, string] => [
          `${name} size`,
          `${round(bytes / 1e6, 2)} MB`,
          '',
          '-',
        ]),
      ],
      loadBefore,
      loadAfter: load(),
      details: {
        runs,
        ms: Object.fromEntries(
          [...times].map(([name, t]) => [
            name,
            { status: t.status.map((v) => round(v, 1)), version: t.version.map((v) => round(v, 1)) },
          ]),
        ),
        bytes: Object.fromEntries(sizes),
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    await ns.cleanup();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  printFigure(await measureCliForms(values.runs === undefined ? undefined : Number(values.runs)));
}
