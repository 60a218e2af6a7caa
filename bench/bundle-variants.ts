// Builds variants of the action bundle into a temporary directory, to measure what the bundle
// costs at start-up (figure 4) and in memory (figure 5) before changing scripts/bundle.ts:
//   pure         @kubernetes/client-node marked side-effect free, so esbuild drops the generated
//                API classes and models the adapters never use (the package root re-exports them all)
//   undici       one undici for everyone: @actions/github and @actions/http-client get the copy
//                nested under @kubernetes/client-node instead of the top-level one
//   pure-undici  both
// Usage: node bench/bundle-variants.ts            (prints each file and its size)
//        node bench/cold-start.ts --script <file>  (start-up of one variant)
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { clientNodeSideEffectFree } from '../scripts/esbuild-plugins.ts';
import { repoRoot } from './kube.ts';

const banner =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";
const clientNode = join(repoRoot, 'node_modules/@kubernetes/client-node');

const pure = clientNodeSideEffectFree(repoRoot);

/** Resolves every `undici` import outside client-node to client-node's own copy. */
const oneUndici: Plugin = {
  name: 'one-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) => {
      if (args.importer.startsWith(clientNode)) return undefined;
      return { path: join(clientNode, 'node_modules/undici/index.js') };
    });
  },
};

export const variants: Record<string, Plugin[]> = {
  current: [],
  pure: [pure],
  undici: [oneUndici],
  'pure-undici': [pure, oneUndici],
};

export async function buildVariants(dir = join(tmpdir(), 'statefulset-canary-bundles')): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [name, plugins] of Object.entries(variants)) {
    const outfile = join(dir, `${name}.js`);
    await build({
      entryPoints: [join(repoRoot, 'src/index.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      minify: true,
      legalComments: 'none',
      banner: { js: banner },
      logLevel: 'warning',
      plugins,
    });
    files.push(outfile);
  }
  return files;
}

if (import.meta.main) {
  for (const file of await buildVariants()) console.log(`${file}\t${statSync(file).size} bytes`);
}
