// Runs one of test/cluster/build's scripts (each a no-op when its output is cached): their
// progress lines go to stderr, and the last line of stdout names what they built.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../control-plane/state.ts';

/** Runs test/cluster/build/`script` with `args`; resolves with the last line it printed on stdout. */
export function runBuildScript(script: string, args: readonly string[] = []): Promise<string> {
  const path = join(repoRoot, 'test/cluster/build', script);
  return new Promise((resolveLine, reject) => {
    const child = spawn('bash', [path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) resolveLine(last);
      else reject(new Error(`test/cluster/build/${script} failed (exit ${code}); see its output above`));
    });
  });
}
