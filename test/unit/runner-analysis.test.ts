// The runner with analysis checks, on in-memory ports: a scripted Cluster port (whose pod proxy
// answers as the test says) and a scripted HTTP client for Prometheus, on a fake clock. The
// real pod proxy and a real Prometheus are tested in test/integration/analysis.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckReport } from '../../src/engine/analysis.ts';
import { type HttpClient, type HttpRequest, HttpUnreachable } from '../../src/ports/http.ts';
import {
  controller,
  quick,
  setsPartition,
  stable,
  startCanary,
} from '../support/scripted/canary-scenario.ts';
import { partitionsIn } from '../support/scripted/cluster-script.ts';
import { FakeClock } from '../support/scripted/fake-clock.ts';

const healthz = (extra = '') => `
- name: healthz
  http: { port: 8080, path: /healthz }
  interval: 1s
  count: 3
${extra}`;

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

/** A Prometheus that answers each query with `answer(query)`, recording each request's time. */
function prometheus(clock: FakeClock, answer: (query: string) => { status: number; body: string } | Error) {
  const requests: { query: string; at: number }[] = [];
  const http: HttpClient = {
    async request(request: HttpRequest) {
      const query = new URL(request.url).searchParams.get('query') ?? '';
      requests.push({ query, at: clock.now() });
      const reply = answer(query);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  };
  return { http, requests };
}

const vector = (samples: [string, number][]) =>
  json(200, {
    status: 'success',
    data: {
      resultType: 'vector',
      result: samples.map(([p, v]) => ({ metric: { pod: p }, value: [0, String(v)] })),
    },
  });

const lastChecks = (
  reports: readonly { stages: readonly { stage: number; analysis?: readonly CheckReport[] }[] }[],
  stage: number,
) => reports.at(-1)?.stages.find((s) => s.stage === stage)?.analysis ?? [];

describe('the runner with analysis checks', () => {
  it(
    'holds each stage until its HTTP check has measured every new pod count times, one request a pod a round',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.proxy = async () => json(200, { status: 'ok' });
      cluster.play(
        controller.newRevision(),
        controller.updates(clock, 4, 4, 5),
        controller.updates(clock, 2, 2, 4),
        controller.updates(clock, 0, 0, 2),
      );
      const { run, canary } = await startCanary(clock, cluster, { analysis: healthz() });
      // The soak (2 s) ends before the third round (3 s): the stage waits for the analysis.
      await clock.advanceTo(canary.at + 2_999);
      assert.equal(cluster.writes.some(setsPartition(2)), false, 'stage 2 before the third round');
      await clock.advance(1);
      const second = await cluster.written(setsPartition(2));
      assert.equal(second.at, canary.at + 3_000);
      await clock.advance(3_000);
      await cluster.written(setsPartition(0));
      await clock.advance(3_000);
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'succeeded', run.log.lines.join('\n'));
      const byPod = Object.groupBy(cluster.proxied, (r) => r.pod);
      assert.deepEqual(
        Object.fromEntries(Object.entries(byPod).map(([p, rs]) => [p, rs?.map((r) => r.at - canary.at)])),
        {
          'web-4': [1_000, 2_000, 3_000],
          'web-3': [4_000, 5_000, 6_000],
          'web-2': [4_000, 5_000, 6_000],
          'web-1': [7_000, 8_000, 9_000],
          'web-0': [7_000, 8_000, 9_000],
        },
        'exactly count × pods requests a stage, at the start of the stage + k × interval',
      );
      assert.ok(cluster.proxied.every((r) => r.port === 8080 && r.path === '/healthz'));
      const stage1 = outcome.stages[0]?.analysis?.[0];
      assert.equal(stage1?.state, 'passed');
      assert.equal(stage1?.rounds, 3);
      assert.equal(stage1?.last?.value, '200');
      assert.match(
        run.log.lines.join('\n'),
        /Analysis healthz, stage 1, round 3\/3: web-4 = 200 \(status 2xx\) pass/,
      );
    },
  );

  it(
    'fails the canary stage on a 500 from the canary and rolls it back, the value in the failure and the report',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.proxy = async () => json(500, { status: 'degraded' });
      cluster.play(
        controller.newRevision(),
        controller.updates(clock, 4, 4, 5),
        controller.restoredAndReplaced(clock),
      );
      const { run, canary } = await startCanary(clock, cluster, { analysis: healthz() });
      await clock.advance(1_000);
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'rolled-back', run.log.lines.join('\n'));
      assert.match(
        outcome.failure ?? '',
        /analysis check healthz failed: 1 failed measurement, more than failure-limit 0 \(web-4: 500: \{"status":"degraded"\}\)/,
      );
      assert.deepEqual(partitionsIn(cluster.writes), [5, 4, 0]);
      assert.equal(cluster.proxied.length, 1, 'no round after the failure');
      const [check] = lastChecks(run.reports, 1);
      assert.equal(check?.state, 'failed');
      assert.deepEqual(
        check?.failed.map((m) => [m.subject, m.value, m.at - canary.at]),
        [['web-4', '500: {"status":"degraded"}', 1_000]],
      );
    },
  );

  it(
    'counts a pod that does not answer as a failed measurement, tolerated up to failure-limit',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      let calls = 0;
      cluster.proxy = async () => {
        calls++;
        if (calls === 2) throw new HttpUnreachable('no answer within 5000 ms');
        return json(200, { ok: true });
      };
      cluster.play(
        controller.newRevision(),
        controller.updates(clock, 4, 4, 5),
        controller.updates(clock, 2, 2, 4),
      );
      const { run, canary } = await startCanary(clock, cluster, {
        analysis: healthz('  failure-limit: 1'),
        steps: '1, 3',
      });
      await clock.advance(3_000);
      await cluster.written(setsPartition(2));
      const [check] = lastChecks(run.reports, 1);
      assert.equal(check?.state, 'passed');
      assert.equal(check?.failures, 1);
      assert.deepEqual(
        check?.failed.map((m) => [m.value, m.at - canary.at]),
        [['no answer: no answer within 5000 ms', 2_000]],
      );
      run.cancel();
      await run.outcome;
    },
  );

  it(
    'measures a dry-run check and reports its failure without failing or holding the stage',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      const prom = prometheus(clock, () => vector([['web-4', 0.5]]));
      cluster.play(
        controller.newRevision(),
        controller.updates(clock, 4, 4, 5),
        controller.updates(clock, 2, 2, 4),
      );
      const analysis = `
- name: error-rate
  prometheus: { address: "http://prom:9090", query: 'rate(errors{pod=~"{{pods}}"}[1m])', max: 0.01 }
  interval: 1s
  count: 5
  dry-run: true
`;
      const { run, canary } = await startCanary(clock, cluster, { analysis, steps: '1, 3' }, prom.http);
      await clock.advance(2_000);
      const next = await cluster.written(setsPartition(2));
      assert.equal(next.at, canary.at + 2_000, 'the stage passed when its soak ended');
      assert.deepEqual(
        prom.requests.map((r) => [r.query, r.at - canary.at]),
        [['rate(errors{pod=~"web-4"}[1m])', 1_000]],
      );
      const [check] = lastChecks(run.reports, 1);
      assert.equal(check?.dryRun, true);
      assert.equal(check?.state, 'failed');
      assert.equal(check?.last?.value, '0.5');
      run.cancel();
      await run.outcome;
    },
  );

  it('waits through rounds without data, then fails with "no data" (on-no-data: wait)', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    const prom = prometheus(clock, () => vector([]));
    cluster.play(
      controller.newRevision(),
      controller.updates(clock, 4, 4, 5),
      controller.restoredAndReplaced(clock),
    );
    const analysis = `
- name: traffic
  prometheus: { address: "http://prom:9090", query: 'sum(rate(req{pod="{{pod}}"}[1m]))', min: 1 }
  interval: 1s
  count: 2
`;
    const { run } = await startCanary(clock, cluster, { analysis }, prom.http);
    await clock.advance(1_000);
    await clock.advance(1_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'rolled-back');
    assert.match(
      outcome.failure ?? '',
      /analysis check traffic failed: no data in 2 rounds \(on-no-data: wait\)/,
    );
    assert.deepEqual(
      prom.requests.map((r) => r.query),
      ['sum(rate(req{pod="web-4"}[1m]))', 'sum(rate(req{pod="web-4"}[1m]))'],
    );
  });

  it('counts Prometheus errors apart from measurements and fails past error-limit', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    // 400 is not retried: each round is one request, one error.
    const prom = prometheus(clock, () =>
      json(400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }),
    );
    cluster.play(controller.newRevision(), controller.updates(clock, 4, 4, 5));
    const analysis = `
- name: error-rate
  prometheus: { address: "http://prom:9090", query: 'rate(x[1m]', max: 0.01, error-limit: 1 }
  interval: 1s
  count: 3
`;
    const { run } = await startCanary(clock, cluster, { analysis, 'on-failure': 'halt' }, prom.http);
    await clock.advance(1_000);
    await clock.advance(1_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'halted');
    assert.match(
      outcome.failure ?? '',
      /Prometheus errors: 2 in a row, more than error-limit 1 \(last: Prometheus answered 400: bad_data: parse error at char 5\)/,
    );
    assert.equal(prom.requests.length, 2);
    assert.equal(cluster.current()?.statefulSet.partition, 4, 'halted at the canary');
  });
});

describe('analysis stages beyond the plan', () => {
  it('warns when a check names a stage the replicas leave out, and runs it nowhere', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    cluster.proxy = async () => json(200, { ok: true });
    cluster.play(
      controller.newRevision(),
      controller.updates(clock, 4, 4, 5),
      controller.updates(clock, 0, 0, 4),
    );
    // 20% of 5 replicas is 1 pod, no more than the stage before: dropped, so 2 stages, not 3.
    const { run } = await startCanary(clock, cluster, {
      steps: '1, 20%, 100%',
      analysis: healthz('  stages: [2, 3]'),
    });
    for (let i = 0; i < 5; i++) await clock.advance(3_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'succeeded', run.log.lines.join('\n'));
    assert.ok(
      run.log.lines.some((l) =>
        /^warning: Analysis check healthz names stage 3, but shop\/web has 2 stage\(s\) with 5 replicas/.test(
          l,
        ),
      ),
      run.log.lines.join('\n'),
    );
    assert.deepEqual(
      [...new Set(cluster.proxied.map((r) => r.pod))],
      ['web-3', 'web-2', 'web-1', 'web-0'],
      'only in stage 2',
    );
  });
});
