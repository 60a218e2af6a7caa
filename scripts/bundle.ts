// Bundles the action (dist/index.js) and the CLI (dist/cli.js): ESM for Node 24, with a
// `require` for the CommonJS dependencies (ws). Deterministic: rebuilding gives the same bytes.
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { clientNodeSideEffectFree } from './esbuild-plugins.ts';

const repoRoot = resolve(import.meta.dirname, '..');

const banner =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

for (const [entry, out] of [
  ['src/index.ts', 'dist/index.js'],
  ['src/cli.ts', 'dist/cli.js'],
] as const) {
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    banner: { js: out === 'dist/cli.js' ? `#!/usr/bin/env node\n${banner}` : banner },
    logLevel: 'warning',
    plugins: [clientNodeSideEffectFree(repoRoot)],
  });
}
