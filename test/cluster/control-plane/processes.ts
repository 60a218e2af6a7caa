// Starting control-plane processes detached (they outlive `cluster:up`), and
// stopping exactly those processes again by pid.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClusterProcess, isAlive, logsDir } from './state.ts';

/** Starts `command` in its own session with stdout and stderr in .cluster/logs/<name>.log. */
export function startDetached(
  name: ClusterProcess['name'],
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): ClusterProcess {
  const logFile = join(logsDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], ...(env ? { env } : {}) });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command}); see ${logFile}`);
  child.unref();
  return { name, pid: child.pid };
}

/** SIGTERM each pid, wait up to `graceMs` for all to exit, then SIGKILL the rest. */
export async function stopProcesses(processes: readonly ClusterProcess[], graceMs = 5000): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  };
  for (const p of processes) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && processes.some((p) => isAlive(p.pid))) await sleep(100);
  for (const p of processes) {
    if (isAlive(p.pid)) {
      console.error(`${p.name} (pid ${p.pid}) ignored SIGTERM for ${graceMs} ms: sending SIGKILL`);
      signal(p.pid, 'SIGKILL');
    }
  }
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && processes.some((p) => isAlive(p.pid))) await sleep(50);
}

/**
 * A port that is free on 127.0.0.1 right now. The kernel picks it, so two
 * clusters (or other services) do not collide on fixed numbers; `exclude`
 * keeps ports already handed out in this start apart.
 */
export async function freePort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolvePort, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const found = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolvePort(found));
      });
    });
    if (port !== 0 && !exclude.has(port)) return port;
  }
  throw new Error('could not find a free port on 127.0.0.1');
}

/** Polls `check` every `intervalMs` until it returns true; throws with `what` on timeout. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
