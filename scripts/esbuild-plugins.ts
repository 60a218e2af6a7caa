// esbuild plugins for the bundle. @kubernetes/client-node's package root re-exports every
// generated API class and model, and the package is not marked side-effect free, so esbuild
// keeps all of them: about 1 MB the action never runs, compiled at every start.
import { join } from 'node:path';
import type { Plugin } from 'esbuild';

export function clientNodeSideEffectFree(repoRoot: string): Plugin {
  const clientNode = join(repoRoot, 'node_modules/@kubernetes/client-node');
  return {
    name: 'client-node-side-effect-free',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        const inside =
          args.importer.startsWith(clientNode) || args.path.startsWith('@kubernetes/client-node');
        if (!inside) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'inner',
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (!resolved.path.startsWith(join(clientNode, 'dist'))) return resolved;
        return { ...resolved, sideEffects: false };
      });
    },
  };
}
