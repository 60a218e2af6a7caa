// The runner on in-memory ports when a canary crash-loops (issue 22, item 5): the failed stage
// reads why its pods are stuck and the crashed container's last log lines once, through the
// Cluster port (a scripted double of our own port, with evidence and a crash log added), and
// both reach the run's log and the failure report; a refused log read is a line, not a failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CrashLogRead, CrashLogTarget } from '../../src/engine/crash-log.ts';
import type { PodEvidence } from '../../src/engine/diagnosis.ts';
import type { StatefulSetRef } from '../../src/ports/cluster.ts';
import { startRun } from '../support/run/scripted.ts';
import { controller, quick, REPLICAS, stable, V2 } from '../support/scripted/canary-scenario.ts';
import { FakeClock } from '../support/scripted/fake-clock.ts';

function crashLooping(name: string): PodEvidence {
  return {
    pod: name,
    phase: 'Running',
    createdAt: undefined,
    deleting: false,
    conditions: [],
    containers: [
      {
        name: 'app',
        ready: false,
        waitingReason: 'CrashLoopBackOff',
        waitingMessage: 'back-off 40s restarting failed container',
        lastTermination: { reason: 'Error', exitCode: 1, message: undefined },
        restartCount: 3,
        terminated: undefined,
      },
    ],
    events: [],
    claims: [],
    unreadable: [],
  };
}

/** A crash-looping canary on a scripted cluster whose crash log reads answer `read`. */
function crashingCanary(read: CrashLogRead) {
  const clock = new FakeClock();
  const cluster = stable(clock);
  const asked: CrashLogTarget[] = [];
  const withEvidence = Object.assign(cluster, {
    evidence: async (_ref: StatefulSetRef, pods: readonly string[]) => pods.map(crashLooping),
    crashLog: async (_ref: StatefulSetRef, target: CrashLogTarget) => {
      asked.push(target);
      return read;
    },
  });
  withEvidence.play(
    controller.newRevision(),
    controller.unreadyCanary('CrashLoopBackOff'),
    controller.restored(),
    controller.recreated(clock),
  );
  const run = startRun({ cluster: withEvidence, clock, image: V2, replicas: REPLICAS });
  return { run, asked };
}

describe('the runner on a scripted cluster when a canary crash-loops', () => {
  it(
    'reads the crashed container’s previous log once and puts its last lines in the log and the report',
    quick,
    async () => {
      const text = 'starting\nError: config key `db.url` missing\n';
      const { run, asked } = crashingCanary({ kind: 'text', text });
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'rolled-back', run.log.lines.join('\n'));
      assert.deepEqual(asked, [{ pod: 'web-4', container: 'app', previous: true }], 'one read, the canary');
      const logged = run.log.lines.filter((l) => /Crash log of|^info: {3}\| /.test(l));
      assert.deepEqual(logged, [
        'info: Crash log of web-4, container app (previous instance), last 2 lines:',
        'info:   | starting',
        'info:   | Error: config key `db.url` missing',
      ]);
      const failure = run.reports.findLast((r) => r.failure)?.failure;
      assert.deepEqual(failure?.crashLogs, [
        {
          pod: 'web-4',
          container: 'app',
          previous: true,
          lines: ['starting', 'Error: config key `db.url` missing'],
          cut: false,
          note: undefined,
        },
      ]);
    },
  );

  it(
    'without pods/log get, says what it could not read and which rule adds it, and rolls back as before',
    quick,
    async () => {
      const { run } = crashingCanary({ kind: 'forbidden' });
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'rolled-back', run.log.lines.join('\n'));
      assert.ok(
        run.log.lines.includes(
          'info: Crash log of web-4, container app (previous instance): could not read its log (forbidden): the RBAC rule pods/log get adds it',
        ),
        run.log.lines.join('\n'),
      );
      const failure = run.reports.findLast((r) => r.failure)?.failure;
      assert.match(failure?.crashLogs?.[0]?.note ?? '', /forbidden.*pods\/log get/);
    },
  );
});
