// `npm run bench`: every figure of issue 7 in turn against the local control plane (started by
// `npm run cluster:up`), each printed as a table and as one JSON line, then a summary table; the
// raw figures also go to bench/results.json. One figure failing does not stop the others.
//   npm run bench [-- --only latency,cold-start]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureAnalysis } from './analysis.ts';
import { measureCliForms } from './cli-forms.ts';
import { measureColdStart } from './cold-start.ts';
import { measureFleet } from './fleet.ts';
import { measureFrontier } from './frontier.ts';
import { repoRoot } from './kube.ts';
import { measureLatency } from './latency.ts';
import { measureOverhead } from './overhead.ts';
import { measureRequests } from './requests.ts';
import { measureScale } from './scale.ts';
import { type Figure, machine, printFigure } from './stats.ts';

const figures: Record<string, () => Promise<Figure>> = {
  latency: () => measureLatency(),
  overhead: () => measureOverhead(),
  requests: () => measureRequests(),
  'cold-start': () => measureColdStart(),
  scale: () => measureScale(),
  // Issue 25 item 5: 1000 replicas on the stand-in (about 7 minutes).
  frontier: () => measureFrontier(),
  analysis: () => measureAnalysis(),
  'cli-forms': () => measureCliForms(),
  fleet: () => measureFleet(),
  // On a private cluster with real nodes of its own, so in a process of its own (bench/database.ts).
  database: () => childFigure('bench/database.ts'),
};

/** A figure measured by a script in a process of its own, read from the JSON line it ends with. */
async function childFigure(script: string): Promise<Figure> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(process.execPath, [join(repoRoot, script), '--json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Figure;
}

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',').map((s) => s.trim());
const unknown = (only ?? []).filter((id) => !(id in figures));
if (unknown.length > 0) {
  console.error(`unknown figure(s) ${unknown.join(', ')}; choose from ${Object.keys(figures).join(', ')}`);
  process.exit(2);
}

const host = machine();
console.log(`# statefulset-canary benchmarks\n\nmachine ${JSON.stringify(host)}`);
const done: Figure[] = [];
const failed: string[] = [];
for (const [id, measure] of Object.entries(figures)) {
  if (only && !only.includes(id)) continue;
  const started = Date.now();
  try {
    const figure = await measure();
    printFigure(figure);
    done.push(figure);
  } catch (error) {
    failed.push(id);
    console.error(
      `\n## ${id}: FAILED after ${Math.round((Date.now() - started) / 1000)} s\n${String(error)}`,
    );
  }
}

console.log('\n## Summary\n');
for (const f of done) {
  for (const [measure, value, goal, verdict] of f.rows.filter((r) => r[2] !== '' && r[3] !== '-')) {
    console.log(`${verdict.padEnd(6)} ${f.title.split(' (')[0]}: ${measure} = ${value} (goal ${goal})`);
  }
}
writeFileSync(
  join(repoRoot, 'bench/results.json'),
  `${JSON.stringify({ machine: host, figures: done, failed }, null, 2)}\n`,
);
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
