// Figure 8, what the database gates cost: the same rollout of the test app on real nodes (3
// replicas, steps 1, 100%, soak 1 s; a private cluster with two real kubelets, since exec needs
// a real kubelet) without gates, with an exec check after each stage (count 2, interval 1 s) and
// with a before-check (exec, every stage), through the recording proxy:
// - exec requests: exactly count × pods of the stage for the check after it; the running pods
//   once per stage for a before-check that passes at once; 0 without gates;
// - other requests added: two SelfSubjectAccessReviews (get and create on pods/exec), nothing
//   else (lease renewals, which come with time, aside);
// - time: how long the checks held each stage, and each stage's duration and the wall time
//   against the same rollout without gates (one run each: real pods start within ±0.5 s).
// Its cluster is `bench-db`, or BENCH_DB_CLUSTER's name.
// Run alone (`node bench/database.ts`), it prints the figure; `npm run bench` runs it as a child
// process (its cluster is its own) and reads the JSON line it ends with.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectPrivateCluster } from '../test/support/private-cluster.ts';

// BENCH_DB_CLUSTER: another private cluster name (two people benching on one machine).
selectPrivateCluster(process.env.BENCH_DB_CLUSTER || 'bench-db', { scheduler: true, realNodes: true });
const { ensureClusterUp, stopCluster } = await import('../test/cluster/lifecycle.ts');
const { adminKubeConfig, freshNamespace } = await import('../test/cluster/harness.ts');
const { realApp } = await import('../test/support/real-node-app.ts');
const { AppsV1Api } = await import('@kubernetes/client-node');
const { manifestFile, requireResult, runBundle, waitForSettled } = await import('./kube.ts');
const { countByVerb, startProxy } = await import('./proxy.ts');
const { partitionWrites } = await import('./stages.ts');
const { load, printFigure, round, verdict } = await import('./stats.ts');
type Figure = import('./stats.ts').Figure;
type RecordedRequest = import('./proxy.ts').RecordedRequest;

const REPLICAS = 3;
const COUNT = 2;
const AFTER = `
- name: accepting
  exec: { command: [/app, role] }
  interval: 1s
  count: ${COUNT}
`;
const BEFORE = `
- name: in-sync
  when: before
  exec: { command: [/app, lag], json-path: $.lagSeconds, max: 5 }
  interval: 1s
`;

interface Measured {
  readonly wallMs: number;
  readonly requests: RecordedRequest[];
  /** Exec requests per stage, by the partition writes around them. */
  readonly execsPerStage: number[];
  /**
   * Per stage, how long its checks held it, from its first exec request: to the stage's own
   * partition write for a before-check; to the stage's last exec request for a check after it
   * (its rounds' span, which overlaps the soak).
   */
  readonly checkMs: number[];
  readonly stageMs: number[];
}

async function rollout(analysis: string, before = false): Promise<Measured> {
  const step = (what: string) =>
    console.error(
      `[database ${new Date().toISOString().slice(11, 19)}] ${analysis ? (before ? 'before-check' : 'exec check') : 'no gates'}: ${what}`,
    );
  step('namespace');
  const ns = await freshNamespace('bench-db');
  const proxy = await startProxy(await adminKubeConfig(), mkdtempSync(join(tmpdir(), 'bench-db-')));
  const roleDir = mkdtempSync(join(tmpdir(), 'bench-db-roles-'));
  try {
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: realApp({ tag: 'v1', replicas: REPLICAS, roleDir }),
    });
    step('waiting for v1 to settle');
    await waitForSettled(ns, 'db', 120_000);
    step('rollout');
    proxy.reset();
    const inputs = {
      manifests: manifestFile(realApp({ tag: 'v2', replicas: REPLICAS, roleDir })),
      steps: '1, 100%',
      soak: '1s',
      'stage-timeout': '2m',
      ...(analysis ? { analysis } : {}),
    };
    const run = await runBundle({ kubeconfig: proxy.kubeconfigFor(ns.name), inputs, timeoutMs: 300_000 });
    step(`action exited ${run.code}`);
    requireResult(run, `rollout with ${analysis ? 'gates' : 'no gates'}`);
    const requests = [...proxy.requests];
    const writes = partitionWrites(requests, 'db');
    // After a stage: its requests come between its partition write and the next one (or the end).
    // Before a stage: between the write before (or the start) and its own write.
    const at = writes.map((w) => w.at);
    const execs = requests.filter((q) => q.resource === 'pods/exec').map((q) => q.at);
    const windows = at.map((write, i) => {
      const [from, to] = before ? [at[i - 1] ?? 0, write] : [write, at[i + 1] ?? run.exitedAt];
      return { write, stage: execs.filter((t) => t >= from && t < to) };
    });
    const execsPerStage = windows.map((w) => w.stage.length);
    const checkMs = windows.map(({ write, stage }) =>
      stage.length === 0 ? 0 : (before ? write : Math.max(...stage)) - Math.min(...stage),
    );
    const stageMs = writes.map((w, i) => (writes[i + 1]?.at ?? run.exitedAt) - w.at);
    return { wallMs: run.exitedAt - run.spawnedAt, requests, execsPerStage, checkMs, stageMs };
  } finally {
    step('closing proxy');
    await proxy.close();
    step('cleanup');
    await ns.cleanup();
    step('done');
    rmSync(roleDir, { recursive: true, force: true });
  }
}

/**
 * Requests by `verb resource`, lease renewals aside: they come with time, not with gates (an
 * update every 10 s; the first renewal reads the lease once, see bench/requests.ts).
 */
function untimed(requests: readonly RecordedRequest[]): Record<string, number> {
  const counts = { ...countByVerb(requests).byVerbAndResource };
  const renewals = counts['update leases'] ?? 0;
  delete counts['update leases'];
  if (renewals > 0 && counts['get leases'] !== undefined) counts['get leases'] -= 1;
  return counts;
}

/** Requests that differ from the run without gates, by `verb resource` (timed ones aside). */
function added(withGates: Measured, without: Measured): Record<string, number> {
  const a = untimed(withGates.requests);
  const b = untimed(without.requests);
  const diff: Record<string, number> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key.startsWith('watch ') || key.startsWith('get pods')) continue;
    const n = (a[key] ?? 0) - (b[key] ?? 0);
    if (n !== 0) diff[key] = n;
  }
  return diff;
}

export async function measureDatabase(): Promise<Figure> {
  const loadBefore = load();
  await ensureClusterUp();
  try {
    const none = await rollout('');
    const after = await rollout(AFTER);
    const before = await rollout(BEFORE, true);
    // Stage 1 moves 1 pod, stage 2 the other 2.
    const expectedAfter = [COUNT * 1, COUNT * 2];
    const expectedBefore = [REPLICAS, REPLICAS];
    const afterAdded = added(after, none);
    const beforeAdded = added(before, none);
    // The run asks the API server whether it may exec before anything changes: one
    // SelfSubjectAccessReview for each verb a WebSocket exec may be authorized as (`get`, and
    // `create` on API servers that authorize the upgrade as create; src/runner/validate-gates.ts).
    const reviews = { 'create selfsubjectaccessreviews': 2 };
    const onlyReviews = (d: Record<string, number>) => JSON.stringify(d) === JSON.stringify(reviews);
    const rows: [string, string, string, string][] = [
      [
        'exec requests without gates',
        `${countByVerb(none.requests).byVerbAndResource['get pods/exec'] ?? 0}`,
        '0',
        verdict((countByVerb(none.requests).byVerbAndResource['get pods/exec'] ?? 0) === 0),
      ],
      [
        `exec check after each stage (count ${COUNT}): exec requests per stage`,
        after.execsPerStage.join(', '),
        `count × pods: ${expectedAfter.join(', ')}`,
        verdict(after.execsPerStage.join() === expectedAfter.join()),
      ],
      [
        'before-check (passing at once): exec requests per stage',
        before.execsPerStage.join(', '),
        `the running pods: ${expectedBefore.join(', ')}`,
        verdict(before.execsPerStage.join() === expectedBefore.join()),
      ],
      [
        'other requests added (exec check / before-check)',
        `${JSON.stringify(afterAdded)} / ${JSON.stringify(beforeAdded)}`,
        `${JSON.stringify(reviews)} (get and create on pods/exec)`,
        verdict(onlyReviews(afterAdded) && onlyReviews(beforeAdded)),
      ],
      [
        'exec check: first to last exec request of each stage, s (rounds at interval 1 s)',
        after.checkMs.map((v) => round(v / 1000, 2)).join(', '),
        `${COUNT - 1} × interval`,
        '-',
      ],
      [
        "before-check: first exec request to the stage's partition write, s",
        before.checkMs.map((v) => round(v / 1000, 2)).join(', '),
        '',
        '-',
      ],
      [
        'partition write to the next (or exit), s: none / exec check / before-check',
        [none, after, before].map((m) => m.stageMs.map((ms) => round(ms / 1000, 2)).join(' + ')).join(' / '),
        '',
        '-',
      ],
      [
        'wall, s: none / exec check / before-check',
        [none, after, before].map((m) => round(m.wallMs / 1000, 1)).join(' / '),
        '',
        '-',
      ],
    ];
    return {
      id: 'database',
      title: '8. Database gates: exec requests and time per stage (real nodes, 3 replicas)',
      rows,
      loadBefore,
      loadAfter: load(),
      details: {
        none: none.execsPerStage,
        after: after.execsPerStage,
        before: before.execsPerStage,
        checkMs: { after: after.checkMs, before: before.checkMs },
        afterAdded,
        beforeAdded,
      },
    };
  } finally {
    await stopCluster();
  }
}

if (import.meta.main) {
  const figure = await measureDatabase();
  if (process.argv.includes('--json')) console.log(JSON.stringify(figure));
  else printFigure(figure);
}
