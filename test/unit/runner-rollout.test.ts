// The runner (src/runner, through src/app.ts execute) on in-memory ports: a rollout that
// passes, one cancelled during a soak, its resume, and one that loses its lock. A fake clock
// drives soaks; a scripted Cluster port records every write. Each test takes milliseconds;
// what Kubernetes itself does is tested on the real control plane (test/integration).
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
  setsPartition,
  stable,
  startCanary,
  V2,
} from '../support/scripted/canary-scenario.ts';
import { partitionsIn, progressOf } from '../support/scripted/cluster-script.ts';
import { FakeClock } from '../support/scripted/fake-clock.ts';
import { pod } from '../support/scripted/observations.ts';

describe('the runner rolling out on a scripted cluster', () => {
  it(
    'writes partitions 5, 4, 2, 0 and succeeds, writing no stage before the one above has soaked',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.play(
        controller.newRevision(),
        controller.updates(clock, 4, 4, 5),
        controller.updates(clock, 2, 2, 4),
        controller.updates(clock, 0, 0, 2),
      );
      const { run, canary } = await startCanary(clock, cluster);
      let stage = canary;
      for (const next of [2, 0]) {
        await clock.advanceTo(stage.at + SOAK - 1);
        assert.equal(
          cluster.writes.some(setsPartition(next)),
          false,
          `partition ${next} before the soak ended`,
        );
        await clock.advance(1);
        stage = await cluster.written(setsPartition(next));
        assert.equal(stage.at, canary.at + SOAK * (next === 2 ? 1 : 2));
      }
      await clock.advance(SOAK);
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'succeeded', run.log.lines.join('\n'));
      assert.equal(outcome.failure, undefined);
      assert.equal(outcome.revision, NEW);
      assert.equal(outcome.previousRevision, OLD);
      assert.deepEqual(partitionsIn(cluster.writes), [5, 4, 2, 0]);
      assert.deepEqual(cluster.partitions(), [0, 5, 4, 2, 0]);
      assert.deepEqual(cluster.unplayed(), []);
      assert.deepEqual(
        outcome.stages.map((s) => [s.partition, s.verdict]),
        [
          [4, 'passed'],
          [2, 'passed'],
          [0, 'passed'],
        ],
      );
      assert.equal(annotation(cluster, 'phase'), 'succeeded');
      assert.equal(clock.now(), canary.at + 3 * SOAK);
      assert.equal(run.lock.released, 1);
    },
  );

  it(
    'stops a run cancelled during the canary soak with no further partition write, recording cancelled',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.play(controller.newRevision(), controller.updates(clock, 4, 4, 5));
      const { run, canary } = await startCanary(clock, cluster);
      await clock.advance(SOAK / 2);
      const before = cluster.writes.length;
      run.cancel();
      const outcome = await run.outcome;
      assert.equal(outcome.result, 'cancelled');
      assert.match(outcome.failure ?? '', /cancelled at stage 1/);
      const after = cluster.writes.slice(before);
      assert.deepEqual(partitionsIn(after), []);
      assert.deepEqual(after.map(progressOf), [['cancelled', '1']]);
      assert.equal(after[0]?.at, canary.at + SOAK / 2, 'stopped at once, not at the soak end');
      assert.equal(cluster.current()?.statefulSet.partition, 4);
      assert.equal(annotation(cluster, 'phase'), 'cancelled');
      await clock.advance(10 * SOAK);
      assert.equal(cluster.writes.length, before + 1, 'nothing written after the run ended');
      assert.equal(run.lock.released, 1);
    },
  );

  it(
    'resumes a cancelled change at partition 4 without freezing again, gates stage 1 again, then finishes',
    quick,
    async () => {
      const clock = new FakeClock();
      const cluster = stable(clock);
      cluster.play(controller.newRevision(), controller.updates(clock, 4, 4, 5));
      const first = await startCanary(clock, cluster);
      await clock.advance(SOAK / 2);
      first.run.cancel();
      assert.equal((await first.run.outcome).result, 'cancelled');

      // The same change again, on the state the cancelled run left.
      const resumedAt = clock.now();
      const from = cluster.writes.length;
      cluster.play(controller.updates(clock, 2, 2, 4), controller.updates(clock, 0, 0, 2));
      const second = startRun({ cluster, clock, image: V2, replicas: REPLICAS });
      await cluster.written((w) => progressOf(w)?.[0] === 'rolling-out', from);
      await clock.settle();
      assert.deepEqual(
        partitionsIn(cluster.writes.slice(from)),
        [4],
        'only the apply that keeps partition 4',
      );
      // Stage 1 is gated again: the canary soaks from when this run saw it Ready (the Ready
      // condition is trusted, rounded up to the next whole second) before partition 2.
      const soaked = Math.min(resumedAt, first.canary.at + 1_000) + SOAK;
      await clock.advanceTo(soaked - 1);
      assert.equal(cluster.writes.some(setsPartition(2)), false, 'partition 2 before stage 1 soaked again');
      await clock.advance(1);
      assert.equal((await cluster.written(setsPartition(2))).at, soaked);
      await clock.advance(2 * SOAK);

      const outcome = await second.outcome;
      assert.equal(outcome.result, 'succeeded', second.log.lines.join('\n'));
      const rerun = cluster.writes.slice(from);
      assert.equal(rerun.filter((w) => w.kind === 'apply' && !w.dryRun).length, 1);
      assert.deepEqual(partitionsIn(rerun), [4, 2, 0], 'never partition 5 again');
      assert.deepEqual(cluster.partitions(), [0, 5, 4, 2, 0]);
      assert.deepEqual(
        outcome.stages.map((s) => [s.partition, s.verdict, s.startedAt !== undefined]),
        [
          [4, 'passed', true],
          [2, 'passed', true],
          [0, 'passed', true],
        ],
      );
      assert.equal(annotation(cluster, 'previous-revision'), OLD);
      assert.equal(annotation(cluster, 'target-revision'), NEW);
      assert.equal(annotation(cluster, 'phase'), 'succeeded');
    },
  );

  it('stops before the next partition write when the lock is lost mid-stage', quick, async () => {
    const clock = new FakeClock();
    const cluster = stable(clock);
    cluster.play(controller.newRevision(), controller.unreadyCanary());
    const { run, canary } = await startCanary(clock, cluster);
    await clock.advance(5_000);
    cluster.change({ pods: [pod(4, NEW, { readySince: clock.now() })] });
    await clock.advance(SOAK - 1);
    const lostAt = clock.now();
    const before = cluster.writes.length;
    run.lock.lose();
    const outcome = await run.outcome;
    assert.equal(outcome.result, 'cancelled');
    assert.equal(clock.now(), lostAt, 'stopped at once, not at the soak end');
    await clock.advance(10 * SOAK);
    assert.deepEqual(partitionsIn(cluster.writes), [5, 4], 'no partition after the lock was lost');
    // What it still writes is its own progress record: no template, pod or partition change.
    const after = cluster.writes.slice(before);
    assert.deepEqual(
      after.map((w) => w.kind === 'patch' && Object.keys(w.change)),
      after.map(() => ['annotations']),
    );
    assert.equal(canary.at + 5_000 + SOAK - 1, lostAt);
    assert.deepEqual(run.log.warnings, [
      'Lost the lock on shop/web (the Lease was taken over by another holder): stopping the rollout before the next partition change',
    ]);
    assert.equal(run.lock.released, 1);
  });
});
