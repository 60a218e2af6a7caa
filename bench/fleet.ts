// Figure: a fleet wave (issue 25, item 5): 10 StatefulSets of 5 replicas in one wave
// (max-parallel 10), soak 5 s, rolled out by the bundled action under /usr/bin/time -v, beside
// one StatefulSet of the same shape rolled out alone before and after it, in the same run:
// wall time of the wave / the slowest single one alone, the API requests per StatefulSet x
// stage (lease requests apart: renewals grow with time by design, one per lease every 10 s),
// and the action's peak RSS.
//   node bench/fleet.ts [--count 10] [--soak 5s]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { parseDuration } from '../src/config/duration.ts';
import { adminKubeConfig } from '../test/cluster/harness.ts';
import { benchNamespace, createReady, manifestFile, requireResult, runBundle, withImage } from './kube.ts';
import { type RecordedRequest, startProxy } from './proxy.ts';
import { type Figure, load, ms, printFigure, round, verdict } from './stats.ts';

const replicas = 5;
const steps = '1, 50%, 100%';
// 5 replicas: partitions 5 (frozen), 4, 2, 0.
const stages = 3;

interface Measured {
  readonly wallMs: number;
  readonly requests: RecordedRequest[];
  readonly maxRssKiB: number | undefined;
}

export async function measureFleet(count = 10, soakMs = 5000): Promise<Figure> {
  const loadBefore = load();
  const ns = await benchNamespace('fleet');
  const proxy = await startProxy(await adminKubeConfig(), mkdtempSync(join(tmpdir(), 'bench-kc-')));
  try {
    const names = [...Array.from({ length: count }, (_, i) => `web-${i}`), 'solo'];
    const created = await Promise.all(
      names.map((name) => createReady(ns, { name, replicas, image: 'registry.local/app:v0' }, 300_000, 0)),
    );
    const fleet = created.slice(0, count);
    const solo = created[count] as V1StatefulSet;
    const roll = async (objects: V1StatefulSet[], image: string, what: string): Promise<Measured> => {
      proxy.reset();
      const run = await runBundle({
        kubeconfig: proxy.kubeconfigFor(ns.name),
        inputs: {
          manifests: manifestFile({
            apiVersion: 'v1',
            kind: 'List',
            items: objects.map((o) => withImage(o, image)),
          }),
          steps,
          soak: `${soakMs}ms`,
          'stage-timeout': '10m',
          ...(objects.length > 1 ? { waves: '- ["web-*"]', 'max-parallel': String(count) } : {}),
        },
        timeoutMs: 900_000,
        measureRss: true,
      });
      requireResult(run, what);
      return {
        wallMs: run.exitedAt - run.spawnedAt,
        requests: [...proxy.requests],
        maxRssKiB: run.maxRssKiB,
      };
    };
    const aloneBefore = await roll([solo], 'registry.local/app:v1', 'one StatefulSet alone (before)');
    const wave = await roll(fleet, 'registry.local/app:v1', `${count} StatefulSets in one wave`);
    const aloneAfter = await roll([solo], 'registry.local/app:v2', 'one StatefulSet alone (after)');
    const slowestAlone = Math.max(aloneBefore.wallMs, aloneAfter.wallMs);
    const ratio = wave.wallMs / slowestAlone;
    const nonLease = (m: Measured) => m.requests.filter((r) => r.resource !== 'leases').length;
    const leases = (m: Measured) => m.requests.length - nonLease(m);
    const perAlone = nonLease(aloneBefore) / stages;
    const perWave = nonLease(wave) / (count * stages);
    const rssMiB = (wave.maxRssKiB ?? Number.NaN) / 1024;
    const grows = perWave <= perAlone * 1.1;
    return {
      id: 'fleet',
      title: `10. Fleet wave (${count} StatefulSets x ${replicas} replicas, one wave, max-parallel ${count}, steps ${steps}, soak ${soakMs / 1000} s)`,
      rows: [
        ['wall time of the wave', ms(wave.wallMs), '', '-'],
        [
          'one StatefulSet alone (before / after the wave)',
          `${ms(aloneBefore.wallMs)} / ${ms(aloneAfter.wallMs)}`,
          '',
          '-',
        ],
        ['wave / slowest alone', String(round(ratio, 3)), '<= 1.25', verdict(ratio <= 1.25)],
        [
          'requests per StatefulSet x stage, leases apart (alone / in the wave)',
          `${round(perAlone, 1)} / ${round(perWave, 1)}`,
          'no more in the wave than alone (grows with StatefulSets x stages)',
          verdict(grows),
        ],
        [
          'requests in all (alone before / wave); lease requests of them',
          `${aloneBefore.requests.length} / ${wave.requests.length}; ${leases(aloneBefore)} / ${leases(wave)}`,
          '',
          '-',
        ],
        [
          'peak RSS of the action (the wave)',
          `${round(rssMiB, 1)} MiB`,
          '<= 150 MB',
          verdict(rssMiB * 1.048576 <= 150),
        ],
        [
          'peak RSS of the action (alone)',
          `${round((aloneBefore.maxRssKiB ?? Number.NaN) / 1024, 1)} MiB`,
          '',
          '-',
        ],
      ],
      loadBefore,
      loadAfter: load(),
      details: {
        wallMs: { wave: wave.wallMs, aloneBefore: aloneBefore.wallMs, aloneAfter: aloneAfter.wallMs },
        requests: { wave: wave.requests.length, alone: aloneBefore.requests.length },
        nonLeaseRequests: { wave: nonLease(wave), alone: nonLease(aloneBefore) },
        maxRssKiB: { wave: wave.maxRssKiB, alone: aloneBefore.maxRssKiB },
      },
    };
  } finally {
    await proxy.close();
    await ns.cleanup();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { count: { type: 'string' }, soak: { type: 'string' } } });
  const figure = await measureFleet(
    Number(values.count ?? 10),
    values.soak === undefined ? 5000 : parseDuration(values.soak),
  );
  printFigure(figure);
}
