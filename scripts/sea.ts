// `npm run sea [-- --out DIR]`: the CLI as one executable for Linux x64 that needs no Node, with
// Node's single executable application support. The steps:
//   1. esbuild bundles src/cli.ts as CommonJS (Node 24's SEA runs a CommonJS main script);
//   2. `node --experimental-sea-config` writes the preparation blob;
//   3. postject injects it into a copy of this Node 24 binary.
// Writes DIR/statefulset-canary-linux-x64 and DIR/statefulset-canary-linux-x64.tar.gz (the binary
// as `statefulset-canary` with LICENSE, for krew), each with a .sha256 in sha256sum's format.
// DIR defaults to build/sea (git-ignored). Prints the paths, sizes and digests.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { inject } from 'postject';
import { clientNodeSideEffectFree } from './esbuild-plugins.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = resolve(values.out ?? join(repoRoot, 'build/sea'));
const name = 'statefulset-canary-linux-x64';

const major = Number(process.versions.node.split('.')[0]);
if (process.platform !== 'linux' || process.arch !== 'x64' || major < 24) {
  console.error(
    `scripts/sea.ts builds for Linux x64 from Node 24 or newer; this is ${process.platform}/${process.arch}, ` +
      `Node ${process.version}. Run it with \`npm run sea\` (node@24 from node_modules).`,
  );
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'sts-canary-sea-'));
try {
  const main = join(work, 'cli.cjs');
  await build({
    entryPoints: [join(repoRoot, 'src/cli.ts')],
    outfile: main,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [clientNodeSideEffectFree(repoRoot)],
  });
  const blob = join(work, 'sea.blob');
  const config = join(work, 'sea-config.json');
  // The code cache is V8's compiled form of the script, valid for this very binary: a faster start.
  writeFileSync(
    config,
    JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });

  mkdirSync(outDir, { recursive: true });
  const binary = join(outDir, name);
  rmSync(binary, { force: true });
  copyFileSync(process.execPath, binary);
  chmodSync(binary, 0o755);
  // The fuse string is Node's own (doc/api/single-executable-applications.md).
  await inject(binary, 'NODE_SEA_BLOB', readFileSync(blob), {
    sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  });

  // The archive krew installs: the binary as `statefulset-canary` and the license, reproducible.
  const stage = join(work, 'archive');
  mkdirSync(stage);
  copyFileSync(binary, join(stage, 'statefulset-canary'));
  copyFileSync(join(repoRoot, 'LICENSE'), join(stage, 'LICENSE'));
  const archive = `${binary}.tar.gz`;
  execFileSync(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-I',
      'gzip -n',
      '-cf',
      archive,
      '-C',
      stage,
      'LICENSE',
      'statefulset-canary',
    ],
    { stdio: 'inherit' },
  );

  for (const file of [binary, archive]) {
    const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
    writeFileSync(`${file}.sha256`, `${digest}  ${basename(file)}\n`);
    console.log(`${file}  ${(statSync(file).size / 1e6).toFixed(1)} MB  sha256 ${digest}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
