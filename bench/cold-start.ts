// Figure 4, cold start: `node dist/index.js` from spawn to its first API request as the recording
// proxy received it (and to its first TLS connection), median of 10, beside `node -e 0` (spawn to
// exit) measured interleaved on the same run; and the bundle's size on disk. The action rolls out
// a manifest equal to what is in the cluster, so each run is a short no-change run.
//   node bench/cold-start.ts [--runs 10] [--script other-build/index.js]
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adminKubeConfig } from '../test/cluster/harness.ts';
import {
  benchNamespace,
  bundle,
  createReady,
  manifestFile,
  nodeBinary,
  repoRoot,
  runBundle,
} from './kube.ts';
import { startProxy } from './proxy.ts';
import { type Figure, load, median, ms, now, printFigure, round, verdict, within } from './stats.ts';

async function bareNode(): Promise<number> {
  const start = now();
  const child = spawn(nodeBinary, ['-e', '0'], { stdio: 'ignore' });
  await within(new Promise((resolve) => child.on('close', resolve)), 30_000, 'node -e 0');
  return now() - start;
}

export async function measureColdStart(runs = 10, script = bundle): Promise<Figure> {
  const loadBefore = load();
  const ns = await benchNamespace('cold-start');
  const proxy = await startProxy(await adminKubeConfig(), mkdtempSync(join(tmpdir(), 'bench-kc-')));
  const bare: number[] = [];
  const firstRequest: number[] = [];
  const firstConnection: number[] = [];
  const total: number[] = [];
  try {
    const sts = await createReady(ns, { name: 'web', replicas: 1, image: 'registry.local/app:v0' });
    const manifests = manifestFile(sts);
    const kubeconfig = proxy.kubeconfigFor(ns.name);
    // One unmeasured run warms the OS file cache, as on a runner that has just checked out the action.
    await runBundle({ kubeconfig, inputs: { manifests }, timeoutMs: 60_000, script });
    for (let i = 0; i < runs; i++) {
      bare.push(await bareNode());
      proxy.reset();
      const run = await runBundle({ kubeconfig, inputs: { manifests }, timeoutMs: 60_000, script });
      if (run.outputs.result !== 'no-change') {
        throw new Error(`bench: the cold-start run ended ${run.outputs.result}: ${run.stdout.slice(-2000)}`);
      }
      const request = proxy.requests[0];
      const connection = proxy.connections[0];
      if (!request || connection === undefined) throw new Error('bench: the cold-start run sent no request');
      firstRequest.push(request.at - run.spawnedAt);
      firstConnection.push(connection - run.spawnedAt);
      total.push(run.exitedAt - run.spawnedAt);
    }
  } finally {
    await proxy.close();
    await ns.cleanup();
  }
  const bundleBytes = statSync(script).size;
  const cliBytes = statSync(join(repoRoot, 'dist/cli.js')).size;
  const ratio = median(firstRequest) / median(bare);
  return {
    id: 'cold-start',
    title: `4. Cold start (median of ${runs}${script === bundle ? '' : `, ${script}`})`,
    rows: [
      ['node dist/index.js: spawn -> first API request', ms(median(firstRequest)), '', '-'],
      ['node dist/index.js: spawn -> first TLS connection', ms(median(firstConnection)), '', '-'],
      ['node -e 0: spawn -> exit', ms(median(bare)), '', '-'],
      ['ratio first request / bare node', String(round(ratio, 2)), '< 4', verdict(ratio < 4)],
      ['no-change run: spawn -> exit', ms(median(total)), '', '-'],
      [
        'dist/index.js size',
        `${round(bundleBytes / 1e6, 2)} MB (${bundleBytes} bytes)`,
        '< 2.5 MB',
        verdict(bundleBytes < 2.5e6),
      ],
      ['dist/cli.js size', `${round(cliBytes / 1e6, 2)} MB`, '', '-'],
    ],
    loadBefore,
    loadAfter: load(),
    details: {
      runs,
      bareNodeMs: bare.map((v) => round(v, 1)),
      firstRequestMs: firstRequest.map((v) => round(v, 1)),
      firstConnectionMs: firstConnection.map((v) => round(v, 1)),
      totalMs: total.map((v) => round(v, 1)),
      bundleBytes,
      cliBytes,
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, script: { type: 'string' } } });
  printFigure(
    await measureColdStart(
      values.runs === undefined ? undefined : Number(values.runs),
      values.script ?? bundle,
    ),
  );
}
