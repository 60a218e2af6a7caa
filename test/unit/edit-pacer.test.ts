import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEditPacer, type EditPace } from '../../src/adapters/github/edit-pacer.ts';

/** A pace on a clock that only moves when the pacer sleeps, recording each sleep. */
function fakePace(): EditPace & { t: number; readonly slept: number[] } {
  const pace = {
    t: 0,
    slept: [] as number[],
    minIntervalMs: 10_000,
    now: () => pace.t,
    sleep: async (ms: number) => {
      pace.slept.push(ms);
      pace.t += ms;
    },
  };
  return pace;
}

/** Whether `promise` has settled once every pending callback ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('the comment write pacer', () => {
  it('gives the next turn only after the write before it ended, however long that took', async () => {
    const pace = fakePace();
    const pacer = createEditPacer(pace, () => false);
    const first = await pacer.turn();
    const second = pacer.turn();
    pace.t += 60_000; // GitHub takes a minute to answer the first write: its interval has long passed.
    assert.equal(await settled(second), false, 'no second write while the first is in flight');
    first();
    assert.equal(await settled(second), true);
    (await second)();
    assert.deepEqual(pace.slept, [], 'the interval had passed while the first write ran');
  });

  it('spaces writes by the interval from the start of the one before', async () => {
    const pace = fakePace();
    const pacer = createEditPacer(pace, () => false);
    (await pacer.turn())();
    pace.t += 3_000;
    (await pacer.turn())();
    assert.deepEqual(pace.slept, [7_000]);
    assert.equal(pace.t, 10_000);
  });

  it('holds every later write back for a retry-after, and does not wait when hurried', async () => {
    const pace = fakePace();
    let hurried = false;
    const pacer = createEditPacer(pace, () => hurried);
    const first = await pacer.turn();
    pacer.holdOff(45_000);
    first();
    (await pacer.turn())();
    assert.deepEqual(pace.slept, [45_000]);
    hurried = true;
    (await pacer.turn())();
    assert.deepEqual(pace.slept, [45_000], 'a cancelled run does not wait');
  });

  it('keeps giving turns after a wait failed', async () => {
    const pace = fakePace();
    const pacer = createEditPacer(
      { ...pace, sleep: () => Promise.reject(new Error('no timers')) },
      () => false,
    );
    (await pacer.turn())();
    await assert.rejects(pacer.turn(), /no timers/);
    pace.t = 100_000;
    const later = await pacer.turn();
    assert.equal(typeof later, 'function');
  });
});
