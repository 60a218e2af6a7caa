// The runner's guards around each stage, on in-memory ports (a scripted Cluster port whose
// exec answers as the test says, a fake clock): before-checks that hold a stage until they pass,
// the primary switched over before the stage that would restart it (or a pause), and hooks.
// The real pods/exec and Jobs are tested on real nodes in test/integration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecRequest } from '../../src/ports/exec.ts';
import type { HttpClient } from '../../src/ports/http.ts';
import {
  controller,
  NEW,
  OLD,
  quick,
  setsPartition,
  stable,
  startCanary,
} from '../support/scripted/canary-scenario.ts';
import { FakeClock } from '../support/scripted/fake-clock.ts';
import { pod } from '../support/scripted/observations.ts';

const exit0 = (stdout: string) => ({ exitCode: 0, stdout, stderr: '', truncated: false, error: undefined });

const lagCheck = (timeout: string) => `
- name: in-sync
  when: before
  exec: { command: [/app, lag], json-path: $.lagSeconds, max: 5 }
  interval: 1s
  timeout: ${timeout}
  stages: [2]
`;

describe('before-checks', () => {
  it('holds the next stage until the lag falls, asking every running pod each round', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    cluster.play(
      controller.newRevision(),
      controller.updates(clock, 4, 4, 5),
      controller.updates(clock, 2, 2, 4),
      controller.updates(clock, 0, 0, 2),
    );
    let lagUntil = Number.POSITIVE_INFINITY;
    cluster.execAnswer = () => exit0(JSON.stringify({ lagSeconds: clock.now() < lagUntil ? 12 : 1 }));
    const { run, canary } = await startCanary(clock, cluster, { analysis: lagCheck('30s') });
    lagUntil = canary.at + 5_000;
    await clock.advanceTo(canary.at + 4_999);
    assert.equal(cluster.writes.some(setsPartition(2)), false, 'stage 2 while the lag is above 5');
    await clock.advance(1);
    const second = await cluster.written(setsPartition(2));
    assert.equal(second.at, canary.at + 5_000);
    await clock.advance(2_000);
    await cluster.written(setsPartition(0));
    await clock.advance(2_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'succeeded', run.log.lines.join('\n'));
    // Rounds at 2, 3, 4 and 5 s, each asking the 5 running pods; none before stage 1 or 3.
    assert.equal(cluster.execs.length, 4 * 5);
    assert.deepEqual([...new Set(cluster.execs.map((e) => e.at - canary.at))], [2_000, 3_000, 4_000, 5_000]);
    const before = outcome.stages[1]?.analysis?.find((c) => c.name === 'in-sync');
    assert.equal(before?.when, 'before');
    assert.equal(before?.state, 'passed');
    assert.equal(before?.failures, 3);
    assert.match(
      run.log.lines.join('\n'),
      /Before-check in-sync, stage 2, round 1: web-0 = exit 0, \$\.lagSeconds = 12 \(exit 0, \$\.lagSeconds <= 5\) fail/,
    );
  });

  it('fails the rollout past its timeout, before the stage restarts any pod', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    cluster.play(controller.newRevision(), controller.updates(clock, 4, 4, 5));
    cluster.execAnswer = () => exit0('{"lagSeconds": 12}');
    const { run, canary } = await startCanary(clock, cluster, {
      analysis: lagCheck('3s'),
      'on-failure': 'halt',
    });
    await clock.advanceTo(canary.at + 5_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'halted');
    assert.equal(cluster.writes.some(setsPartition(2)), false, 'no pod of stage 2 restarted');
    assert.equal(cluster.current()?.statefulSet.partition, 4);
    assert.match(
      outcome.failure ?? '',
      /stage 2 failed: BeforeCheckFailed: before-check in-sync failed before stage 2 restarted any pod: not passed within its timeout of 3s \(last: web-0: exit 0, \$\.lagSeconds = 12;/,
    );
    const report = run.reports.at(-1);
    assert.equal(report?.failure?.reason, 'BeforeCheckFailed');
    assert.equal(report?.stages[1]?.analysis?.[0]?.state, 'failed');
  });
});

describe('the primary restarted last', () => {
  const primaryAt = (cluster: ReturnType<typeof stable>, ordinal: number) =>
    cluster.change({ pods: [pod(ordinal, OLD, { labels: { role: 'primary' } })] });

  it(
    'switches the primary at ordinal 2 over to the updated canary before stage 2, then lowers the partition',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      primaryAt(cluster, 2);
      cluster.play(
        controller.newRevision(),
        controller.updates(clock, 4, 4, 5),
        controller.updates(clock, 2, 2, 4),
        controller.updates(clock, 0, 0, 2),
      );
      cluster.execAnswer = (request: ExecRequest) => {
        const to = request.command[2] ?? '';
        // The database moves the role: the labels follow (as Patroni relabels its pods).
        cluster.change((current) => ({
          pods: current.pods.map((p) => ({
            ...p,
            labels: p.name === to ? { role: 'primary' } : ({} as Record<string, string>),
          })),
        }));
        return exit0(`switchover from ${request.pod} to ${to}`);
      };
      const { run, canary } = await startCanary(clock, cluster, {
        primary: 'selector: role=primary\nswitchover:\n  exec: { command: [/app, switchover, "{{to}}"] }',
      });
      await clock.advanceTo(canary.at + 2_000);
      const second = await cluster.written(setsPartition(2));
      await clock.advance(2_000);
      await cluster.written(setsPartition(0));
      await clock.advance(2_000);
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'succeeded', run.log.lines.join('\n'));
      assert.deepEqual(
        cluster.execs.map((e) => [e.pod, e.command.join(' ')]),
        [['web-2', '/app switchover web-4']],
        'one switchover, in the old primary, to the updated canary',
      );
      assert.ok(
        (cluster.execs[0]?.at ?? Infinity) <= second.at,
        'the switchover comes before the partition write',
      );
      const log = run.log.lines.join('\n');
      assert.match(log, /Primary: stage 1 does not restart the primary web-2/);
      assert.match(log, /Primary: web-4 holds the role; stage 2 restarts web-2 as a replica/);
      assert.match(log, /Primary: stage 3 does not restart the primary web-4/);
      assert.deepEqual(
        run.reports.at(-1)?.hooks?.map((h) => [h.event, h.state, h.stage]),
        [['switchover', 'passed', 2]],
      );
    },
  );

  it('pauses before the stage that would restart the primary when no switchover is set', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    primaryAt(cluster, 3);
    cluster.play(controller.newRevision(), controller.updates(clock, 4, 4, 5));
    const { run, canary } = await startCanary(clock, cluster, { primary: 'selector: role=primary' });
    await clock.advanceTo(canary.at + 2_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'paused');
    assert.equal(cluster.writes.some(setsPartition(2)), false);
    assert.match(
      run.log.lines.join('\n'),
      /paused before stage 2 of 3 \(stage 2 would restart the primary web-3 and no switchover hook is set: move the role \(for example to web-4\) yourself, then promote\) with the partition at 4/,
    );
  });

  it('fails the stage when the role does not move within the primary timeout', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    primaryAt(cluster, 4);
    cluster.play(controller.newRevision());
    let switched = () => {};
    const switchover = new Promise<void>((resolve) => {
      switched = resolve;
    });
    cluster.execAnswer = () => {
      switched();
      return exit0('ok');
    };
    const run = (await import('../support/run/scripted.ts')).startRun({
      cluster,
      clock,
      image: 'registry.local/web:v2',
      replicas: 5,
      inputs: {
        primary:
          'selector: role=primary\ntimeout: 5s\nswitchover:\n  exec: { command: [/app, switchover, "{{to}}"] }',
        'on-failure': 'halt',
      },
    });
    await switchover;
    await clock.settle();
    await clock.advance(5_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'halted');
    assert.equal(cluster.writes.some(setsPartition(4)), false, 'the canary never restarted the primary');
    assert.match(
      outcome.failure ?? '',
      /SwitchoverFailed: after the switchover to web-0: the primary \(label role=primary\) should be web-0 \(or another pod this stage keeps\), but is web-4 after 5s/,
    );
  });
});

describe('hooks', () => {
  it(
    'stops before anything changes when a before-rollout hook fails, and posts the event as JSON',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      const posted: { url: string; body: unknown }[] = [];
      const http: HttpClient = {
        async request(request) {
          posted.push({ url: request.url, body: JSON.parse(request.body ?? 'null') });
          return { status: 503, body: 'backup running' };
        },
      };
      const { startRun } = await import('../support/run/scripted.ts');
      const run = startRun({
        cluster,
        clock,
        image: 'registry.local/web:v2',
        replicas: 5,
        http,
        inputs: {
          hooks: '- name: hold\n  on: [before-rollout]\n  http: { url: "https://backups.example/{{event}}" }',
        },
      });
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'failed');
      assert.match(
        outcome.failure ?? '',
        /before-rollout hook hold failed: POST https:\/\/backups.example\/before-rollout: 503: backup running; nothing was changed/,
      );
      assert.equal(
        cluster.writes.filter((w) => !(w.kind === 'apply' && w.dryRun)).length,
        0,
        'no write but the dry run',
      );
      assert.equal(posted.length, 1);
      assert.deepEqual(posted[0]?.body, {
        event: 'before-rollout',
        namespace: 'shop',
        statefulset: 'web',
        previousRevision: OLD,
        runUrl: 'https://github.com/o/r/actions/runs/1',
      });
    },
  );

  it('runs before-stage and after-stage hooks around each stage and reports each', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    cluster.play(
      controller.newRevision(),
      controller.updates(clock, 4, 4, 5),
      controller.updates(clock, 2, 2, 4),
      controller.updates(clock, 0, 0, 2),
    );
    cluster.execAnswer = () => exit0('done');
    const { run, canary } = await startCanary(clock, cluster, {
      hooks:
        '- name: note\n  on: [before-stage, after-stage]\n  exec: { pod: web-0, command: [/app, note, "{{event}}", "{{stage}}", "{{pods}}"] }',
    });
    await clock.advanceTo(canary.at + 2_000);
    await cluster.written(setsPartition(2));
    await clock.advance(2_000);
    await cluster.written(setsPartition(0));
    await clock.advance(2_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'succeeded', run.log.lines.join('\n'));
    assert.deepEqual(
      cluster.execs.map((e) => e.command.slice(2).join(' ')),
      [
        'before-stage 1 web-4',
        'after-stage 1 web-4',
        'before-stage 2 web-2,web-3',
        'after-stage 2 web-2,web-3,web-4',
        'before-stage 3 web-0,web-1',
        'after-stage 3 web-0,web-1,web-2,web-3,web-4',
      ],
    );
    assert.equal(run.reports.at(-1)?.hooks?.length, 6);
  });
});

describe('Job checks', () => {
  const smoke = `
- name: smoke
  job:
    template: { apiVersion: batch/v1, kind: Job, spec: { template: { spec: { restartPolicy: Never, containers: [{ name: smoke, image: smoke:1, args: ["{{pods}}", "{{revision}}"] }] } } } }
  interval: 1s
  count: 1
  stages: [1]
`;

  it(
    "deletes what an earlier run left, runs a Job for the canary's pods and fails with its log",
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.leftoverJobs = ['web-smoke-1-old'];
      cluster.play(controller.newRevision(), controller.updates(clock, 4, 4, 5));
      cluster.jobAnswer = (request) => ({
        kind: 'failed',
        name: `${request.namePrefix}-abcde`,
        message: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
        log: 'connecting to web-4\nFATAL: relation "orders" does not exist',
      });
      const { run, canary } = await startCanary(clock, cluster, { analysis: smoke, 'on-failure': 'halt' });
      await clock.advanceTo(canary.at + 1_000);
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'halted');
      assert.deepEqual(cluster.jobRemovals, [
        { namespace: 'shop', labels: { 'statefulset-canary.io/statefulset': 'web' } },
      ]);
      assert.match(run.log.lines.join('\n'), /deleted Jobs an earlier run left behind: web-smoke-1-old/);
      const [job] = cluster.jobs;
      assert.ok(job, 'a Job was run');
      const args = (job.request.job.spec as { template: { spec: { containers: { args: string[] }[] } } })
        .template.spec.containers[0]?.args;
      assert.deepEqual(args, ['web-4', NEW], 'the placeholders filled for the stage');
      assert.deepEqual(job?.request.labels, {
        'statefulset-canary.io/statefulset': 'web',
        'statefulset-canary.io/for': 'smoke',
      });
      const failure = run.reports.at(-1)?.failure;
      assert.equal(failure?.reason, 'AnalysisFailed');
      assert.match(failure?.message ?? '', /analysis check smoke failed: 1 failed measurement/);
      assert.deepEqual(failure?.crashLogs?.[0]?.lines, [
        'connecting to web-4',
        'FATAL: relation "orders" does not exist',
      ]);
    },
  );

  it('fails the check, not waits forever, when a Job cannot be run at all', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    cluster.play(controller.newRevision(), controller.updates(clock, 4, 4, 5));
    cluster.jobAnswer = () => {
      throw new TypeError("Cannot destructure property 'generateName' of undefined");
    };
    const { run, canary } = await startCanary(clock, cluster, { analysis: smoke, 'on-failure': 'halt' });
    await clock.advanceTo(canary.at + 1_000);
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'halted');
    assert.match(
      outcome.failure ?? '',
      /analysis check smoke failed: 1 failed measurement.*could not run: Cannot destructure/,
    );
  });
});
