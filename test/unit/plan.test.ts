import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  maxUnavailablePods,
  ordinalsOfStage,
  planPartitions,
  podsForStep,
  type Step,
  unavailableText,
} from '../../src/engine/plan.ts';

const count = (value: number): Step => ({ kind: 'count', value });
const percent = (value: number): Step => ({ kind: 'percent', value });
const defaults = [count(1), percent(50), percent(100)];

describe('planPartitions', () => {
  const cases: { name: string; steps: Step[]; replicas: number; want: number[] }[] = [
    {
      name: 'Five replicas with the default steps go 4, 2, 0',
      steps: defaults,
      replicas: 5,
      want: [4, 2, 0],
    },
    {
      name: 'Ten replicas with the default steps go 9, 5, 0',
      steps: defaults,
      replicas: 10,
      want: [9, 5, 0],
    },
    { name: 'Three replicas round 50% up to two pods', steps: defaults, replicas: 3, want: [2, 1, 0] },
    { name: 'Zero replicas have no stages', steps: defaults, replicas: 0, want: [] },
    { name: 'One replica is a single stage to partition 0', steps: defaults, replicas: 1, want: [0] },
    {
      name: 'Two replicas drop the 50% stage that does not move a pod',
      steps: defaults,
      replicas: 2,
      want: [1, 0],
    },
    {
      name: 'Steps that stop short of 100% still end at partition 0',
      steps: [count(1), percent(50)],
      replicas: 4,
      want: [3, 2, 0],
    },
    { name: 'An empty step list is one stage to partition 0', steps: [], replicas: 6, want: [0] },
    {
      name: 'A tiny percentage still updates at least one pod first',
      steps: [percent(1), percent(100)],
      replicas: 5,
      want: [4, 0],
    },
    {
      name: 'Percentages round up, never down',
      steps: [percent(10), percent(34), percent(100)],
      replicas: 9,
      want: [8, 5, 0],
    },
    { name: 'A count above replicas means every pod at once', steps: [count(10)], replicas: 4, want: [0] },
    {
      name: 'Stages after one that reached every pod are dropped',
      steps: [count(1), count(7), percent(100)],
      replicas: 5,
      want: [4, 0],
    },
    {
      name: 'A percentage that lands on the previous count is dropped',
      steps: [count(2), percent(40), count(4)],
      replicas: 5,
      want: [3, 1, 0],
    },
    {
      name: 'A step below an earlier one never raises the partition',
      steps: [count(3), count(1), percent(100)],
      replicas: 5,
      want: [2, 0],
    },
    { name: 'Emergency rollback at 100% is one stage', steps: [percent(100)], replicas: 5, want: [0] },
    {
      name: 'Counts step down one pod at a time',
      steps: [count(1), count(2), count(3)],
      replicas: 3,
      want: [2, 1, 0],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(planPartitions(c.steps, c.replicas), c.want);
    });
  }

  it('Every plan strictly decreases and ends at 0 for 1..50 replicas and assorted steps', () => {
    const stepSets = [defaults, [percent(1)], [count(1), count(1)], [percent(33), percent(66)], [count(100)]];
    for (let replicas = 1; replicas <= 50; replicas++) {
      for (const steps of stepSets) {
        const plan = planPartitions(steps, replicas);
        assert.equal(plan.at(-1), 0, `replicas ${replicas}`);
        assert.ok(plan[0]! < replicas, `first stage moves a pod for replicas ${replicas}`);
        for (let i = 1; i < plan.length; i++) assert.ok(plan[i]! < plan[i - 1]!);
      }
    }
  });

  it('Rejects a negative or fractional replica count', () => {
    assert.throws(() => planPartitions(defaults, -1), RangeError);
    assert.throws(() => planPartitions(defaults, 1.5), RangeError);
  });
});

describe('podsForStep', () => {
  it('Rounds 50% of 5 up to 3', () => assert.equal(podsForStep(percent(50), 5), 3));
  it('Caps a count at replicas', () => assert.equal(podsForStep(count(9), 5), 5));
  it('Gives 100% of 7 as 7', () => assert.equal(podsForStep(percent(100), 7), 7));
});

describe('ordinalsOfStage', () => {
  const cases: { name: string; previous: number; partition: number; start?: number; want: number[] }[] = [
    { name: 'The canary stage of five replicas moves ordinal 4', previous: 5, partition: 4, want: [4] },
    { name: 'A later stage moves ordinals highest first', previous: 4, partition: 2, want: [3, 2] },
    { name: 'The last stage moves down to ordinal 0', previous: 2, partition: 0, want: [1, 0] },
    { name: 'A stage that keeps the partition moves nothing', previous: 2, partition: 2, want: [] },
    {
      name: 'With ordinals starting at 10 the canary of five replicas is ordinal 14',
      previous: 5,
      partition: 4,
      start: 10,
      want: [14],
    },
    {
      name: 'With ordinals starting at 10 partition 2 moves ordinals 13 and 12',
      previous: 4,
      partition: 2,
      start: 10,
      want: [13, 12],
    },
    {
      name: 'With ordinals starting at 10 the last stage ends at ordinal 10, not 0',
      previous: 2,
      partition: 0,
      start: 10,
      want: [11, 10],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(ordinalsOfStage(c.previous, c.partition, c.start), c.want));
  }
});

describe('maxUnavailablePods: as the StatefulSet controller computes it', () => {
  const cases: { name: string; value: number | string | undefined; replicas: number; want: number }[] = [
    { name: 'Unset is one pod at a time', value: undefined, replicas: 5, want: 1 },
    { name: 'A count is taken as it is', value: 2, replicas: 5, want: 2 },
    { name: 'A count above replicas is taken as it is', value: 9, replicas: 5, want: 9 },
    { name: '50% of 5 rounds down to 2, not up to 3', value: '50%', replicas: 5, want: 2 },
    { name: '40% of 6 rounds down to 2', value: '40%', replicas: 6, want: 2 },
    { name: '10% of 5 rounds down to 0 and is raised to 1', value: '10%', replicas: 5, want: 1 },
    { name: '100% of 5 is every pod', value: '100%', replicas: 5, want: 5 },
    { name: 'A string that is not a percentage counts as 1', value: 'two', replicas: 5, want: 1 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(maxUnavailablePods(c.value, c.replicas), c.want));

  it('Says how many pods may be down at once and how the percentage was rounded', () => {
    assert.equal(
      unavailableText('50%', 5),
      'at most 2 pods down at once (maxUnavailable 50% of 5, rounded down as the controller does)',
    );
    assert.equal(unavailableText(undefined, 5), 'at most 1 pod down at once (no maxUnavailable)');
    assert.equal(unavailableText(3, 5), 'at most 3 pods down at once (maxUnavailable 3)');
  });
});
