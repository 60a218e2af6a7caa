import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fanOut, skipNoChange } from '../../src/adapters/reporters.ts';
import type { RolloutReport } from '../../src/engine/report.ts';
import type { Reporter } from '../../src/ports/reporter.ts';

const report = (verdict: RolloutReport['verdict']) => ({ verdict }) as RolloutReport;

function recording(): Reporter & { seen: string[] } {
  const seen: string[] = [];
  return { seen, update: async (r) => void seen.push(r.verdict) };
}

describe('reporter combinators', () => {
  it('skipNoChange passes every report but those of runs that changed nothing', async () => {
    const inner = recording();
    const skipping = skipNoChange(inner);
    for (const verdict of ['in-progress', 'no-change', 'succeeded'] as const)
      await skipping.update(report(verdict));
    assert.deepEqual(inner.seen, ['in-progress', 'succeeded']);
  });

  it('skipNoChange in a fleet holds a no-change member back until another member changes something', async () => {
    const inner = recording();
    const told: number[] = [];
    inner.fleet = (f) => void told.push(f.waves.length);
    const skipping = skipNoChange(inner);
    const member = (name: string) => ({ context: 'ctx', namespace: 'ns', name });
    skipping.fleet?.({
      waves: [
        { index: 0, name: 'wave 1', members: [member('a')] },
        { index: 1, name: 'wave 2', members: [member('b')] },
      ],
    });
    await skipping.update(report('no-change'));
    assert.deepEqual(inner.seen, [], 'a rerun that changes nothing writes nothing');
    await skipping.update(report('in-progress'));
    await skipping.update(report('no-change'));
    assert.deepEqual(inner.seen, ['no-change', 'in-progress', 'no-change']);
    assert.deepEqual(told, [2], 'the fleet is passed on');
  });

  it('fanOut and skipNoChange hand the fleet to every reporter that shows one, past one that throws', () => {
    const fleet = { waves: [{ index: 0, name: 'wave 1', members: [] }] };
    const seen: unknown[] = [];
    const shows: Reporter = { update: async () => undefined, fleet: (f) => void seen.push(f) };
    const throws: Reporter = {
      update: async () => undefined,
      fleet: () => {
        throw new Error('no');
      },
    };
    fanOut([recording(), throws, skipNoChange(shows)]).fleet?.(fleet);
    assert.deepEqual(seen, [fleet]);
  });

  it('fanOut reaches every reporter even when one of them fails', async () => {
    const a = recording();
    const b = recording();
    const broken: Reporter = { update: () => Promise.reject(new Error('GitHub is down')) };
    await fanOut([a, broken, b]).update(report('failed'));
    assert.deepEqual([a.seen, b.seen], [['failed'], ['failed']]);
    const told: string[] = [];
    a.fleet = () => void told.push('a');
    b.fleet = () => void told.push('b');
    fanOut([a, broken, b]).fleet?.({ waves: [] });
    assert.deepEqual(told, ['a', 'b']);
  });
});
