import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/config/input-error.ts';
import { parsePauseAfter } from '../../src/config/stages.ts';
import {
  decodePausedAt,
  decodePlan,
  encodePausedAt,
  encodePlan,
  pausesAfter,
} from '../../src/engine/pause.ts';

describe('pause-after', () => {
  for (const [text, parsed] of [
    ['', []],
    ['1', [1]],
    ['1, 2', [1, 2]],
    ['1\n3', [1, 3]],
    ['each', 'each'],
    ['EACH', 'each'],
  ] as const) {
    it(`reads ${JSON.stringify(text)} as ${JSON.stringify(parsed)}`, () => {
      assert.deepEqual(parsePauseAfter(text), parsed);
    });
  }
  for (const [text, problem] of [
    ['0', /"0" is not a stage number/],
    ['one', /"one" is not a stage number/],
    ['2, 1', /stage 1 comes after stage 2/],
    ['1, 1', /stage 1 comes after stage 1/],
    ['-1', /"-1" is not a stage number/],
  ] as const) {
    it(`refuses ${JSON.stringify(text)}, naming the input and the fix`, () => {
      assert.throws(
        () => parsePauseAfter(text),
        (e: unknown) => e instanceof InputError && e.input === 'pause-after' && problem.test(e.message),
      );
    });
  }
});

describe('whether a stage pauses', () => {
  it('pauses after a listed stage, never after the last one', () => {
    assert.equal(pausesAfter([1], 1, 3), true);
    assert.equal(pausesAfter([1], 2, 3), false);
    assert.equal(pausesAfter('each', 2, 3), true);
    assert.equal(pausesAfter('each', 3, 3), false, 'the last stage ends the rollout');
    assert.equal(pausesAfter([3], 3, 3), false);
  });
  it('does not pause again at or before the stage a promote went on from', () => {
    assert.equal(pausesAfter('each', 1, 3, 1), false);
    assert.equal(pausesAfter('each', 2, 3, 1), true);
  });
});

describe('the recorded plan', () => {
  const plan = {
    steps: [
      { kind: 'count', value: 1 },
      { kind: 'percent', value: 50 },
    ],
    soakMs: 30_000,
    stageTimeoutMs: 600_000,
    maxRestarts: 0,
    pauseAfter: [1],
  } as const;
  it('reads back what it wrote', () => {
    assert.deepEqual(decodePlan(encodePlan(plan)), plan);
  });
  it('is no plan when the annotation is missing, not JSON or not one', () => {
    assert.equal(decodePlan({}), undefined);
    assert.equal(decodePlan({ 'statefulset-canary.io/plan': '{' }), undefined);
    assert.equal(decodePlan({ 'statefulset-canary.io/plan': '{"steps":[],"soakMs":1}' }), undefined);
    assert.equal(
      decodePlan({ 'statefulset-canary.io/plan': JSON.stringify({ ...plan, soakMs: -1 }) }),
      undefined,
    );
  });
  it('records when it paused, and forgets it', () => {
    const at = Date.UTC(2026, 10, 29, 10, 0, 0);
    const annotations = encodePausedAt(at) as Record<string, string>;
    assert.equal(decodePausedAt(annotations), at);
    assert.deepEqual(encodePausedAt(undefined), { 'statefulset-canary.io/paused-at': null });
  });
});
