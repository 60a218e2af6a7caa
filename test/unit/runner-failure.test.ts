// The runner (src/runner, through src/app.ts execute) on in-memory ports when a stage fails:
// a crash-looping canary rolled back or halted, a template changed by someone else, and a
// stage timeout. A fake clock drives time; a scripted Cluster port records every write.
// Each test takes milliseconds; Kubernetes itself is tested on the real control plane.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startRun } from '../support/run/scripted.ts';
import {
  annotation,
  controller,
  NEW,
  OLD,
  quick,
  REPLICAS,
  SOAK,
  STAGE_TIMEOUT,
  stable,
  startCanary,
  THIRD,
  V2,
} from '../support/scripted/canary-scenario.ts';
import { partitionsIn, progressOf, type Write } from '../support/scripted/cluster-script.ts';
import { FakeClock } from '../support/scripted/fake-clock.ts';

const restoring = (w: Write) => w.kind === 'patch' && w.change.templateFromRevision !== undefined;
const deletedPods = (writes: readonly Write[]) =>
  writes.flatMap((w) => (w.kind === 'delete-pod' ? [[w.pod, w.uid]] : []));

describe('the runner on a scripted cluster when a stage fails', () => {
  it(
    'rolls a canary in CrashLoopBackOff back at once: restores the template, deletes the canary, restores the partition',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      const start = clock.now();
      cluster.play(
        controller.newRevision(),
        controller.unreadyCanary('CrashLoopBackOff'),
        controller.restored(),
        controller.recreated(clock),
      );
      const run = startRun({ cluster, clock, image: V2, replicas: REPLICAS });
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'rolled-back', run.log.lines.join('\n'));
      assert.match(outcome.failure ?? '', /stage 1 failed: pod shop\/web-4, container app: CrashLoopBackOff/);
      assert.match(outcome.failure ?? '', new RegExp(`rolled back to ${OLD}`));
      assert.equal(clock.now(), start, 'failed without waiting for the stage timeout');
      assert.equal(outcome.revision, OLD);

      const restore = cluster.writes.find(restoring);
      assert.ok(restore?.kind === 'patch');
      assert.equal(restore.change.templateFromRevision, OLD);
      assert.match(
        restore.change.restoredRevisionCause ?? '',
        /statefulset-canary rollback, .*canary failed/,
      );
      assert.equal(restore.change.partition, undefined, 'the partition stays at 4 while rolling back');
      assert.deepEqual(
        deletedPods(cluster.writes),
        [['web-4', `web-4@${NEW}`]],
        'only the canary, by its uid',
      );
      assert.deepEqual(
        cluster.writes.map((w) => w.kind),
        ['apply', 'apply', 'patch', 'patch', 'patch', 'delete-pod', 'patch'],
      );
      assert.deepEqual(partitionsIn(cluster.writes), [5, 4, 0]);
      assert.equal(cluster.current()?.statefulSet.partition, 0, 'original partition restored');
      assert.equal(annotation(cluster, 'phase'), 'rolled-back');
      assert.deepEqual(cluster.unplayed(), []);
    },
  );

  it(
    'halts a canary in CrashLoopBackOff with on-failure halt: partition 4 kept, nothing restored or deleted',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.play(controller.newRevision(), controller.unreadyCanary('CrashLoopBackOff'));
      const run = startRun({
        cluster,
        clock,
        image: V2,
        replicas: REPLICAS,
        inputs: { 'on-failure': 'halt' },
      });
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'halted');
      assert.match(outcome.failure ?? '', /stage 1 failed: pod shop\/web-4, container app: CrashLoopBackOff/);
      assert.deepEqual(deletedPods(cluster.writes), []);
      assert.equal(cluster.writes.some(restoring), false);
      assert.deepEqual(partitionsIn(cluster.writes), [5, 4]);
      assert.deepEqual(progressOf(cluster.writes.at(-1)!), ['halted', '1']);
    },
  );

  it(
    'halts, even with on-failure rollback, when someone else changes the template mid-stage',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.play(controller.newRevision(), controller.updates(clock, 4, 4, 5));
      const { run } = await startCanary(clock, cluster, { 'on-failure': 'rollback' });
      await clock.advance(SOAK / 2);
      const before = cluster.writes.length;
      // Someone applies a third template: the controller computes another updateRevision.
      cluster.change({ statefulSet: { updateRevision: THIRD, generation: 3, observedGeneration: 3 } });
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'halted');
      assert.match(outcome.failure ?? '', /stage 1 failed: RevisionChanged/);
      assert.match(outcome.failure ?? '', /someone else changed the StatefulSet's template/);
      const after = cluster.writes.slice(before);
      assert.deepEqual(
        after.map(progressOf),
        [['halted', '1']],
        'no template restore, pod delete or partition',
      );
      assert.equal(cluster.current()?.statefulSet.partition, 4);
    },
  );

  it(
    'fails a canary that never becomes Ready at the stage timeout, naming it, then rolls back',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.play(
        controller.newRevision(),
        controller.unreadyCanary(),
        controller.restored(),
        controller.recreated(clock),
      );
      const { run, canary } = await startCanary(clock, cluster);
      await clock.advanceTo(canary.at + STAGE_TIMEOUT - 1);
      assert.equal(cluster.writes.some(restoring), false, 'failed before the stage timeout');
      await clock.advance(1);
      assert.equal((await cluster.written(restoring)).at, canary.at + STAGE_TIMEOUT);
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'rolled-back', run.log.lines.join('\n'));
      assert.match(
        outcome.failure ?? '',
        /stage 1 failed: pod shop\/web-4: StageTimeout: .*still waiting for web-4: Running, not Ready/,
      );
      assert.deepEqual(deletedPods(cluster.writes), [['web-4', `web-4@${NEW}`]]);
      assert.deepEqual(partitionsIn(cluster.writes), [5, 4, 0]);
      assert.equal(annotation(cluster, 'phase'), 'rolled-back');
      assert.deepEqual(cluster.unplayed(), []);
    },
  );
});
