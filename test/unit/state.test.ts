import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeCause, decodeState, encodeState, type RecordedState } from '../../src/engine/state.ts';

const state: RecordedState = {
  kind: 'rollout',
  phase: 'rolling-out',
  stage: 2,
  targetRevision: 'web-7d9f',
  previousRevision: 'web-5c4b',
  originalPartition: 0,
  runUrl: 'https://github.com/o/r/actions/runs/1',
  commit: '0123456789abcdef',
  pullRequest: 42,
  context: 'prod',
};

function strings(annotations: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => e[1] !== null));
}

describe('recorded rollout state', () => {
  it('survives a round trip through annotations', () => {
    assert.deepEqual(decodeState(strings(encodeState(state))), state);
  });

  it('keeps the recorded kube context when a later write gives none', () => {
    const later = encodeState({ ...state, phase: 'rolled-back', context: undefined });
    assert.equal(later['statefulset-canary.io/context'], undefined);
    assert.equal(encodeState(state)['statefulset-canary.io/context'], 'prod');
  });

  it('removes optional annotations that are absent', () => {
    const encoded = encodeState({ ...state, runUrl: undefined, pullRequest: undefined });
    assert.equal(encoded['statefulset-canary.io/run-url'], null);
    assert.equal(encoded['statefulset-canary.io/pull-request'], null);
  });

  const broken: [string, Record<string, string>][] = [
    ['an unknown phase', { 'statefulset-canary.io/phase': 'exploded' }],
    ['a stage that is not a number', { 'statefulset-canary.io/stage': 'two' }],
    ['a negative original partition', { 'statefulset-canary.io/original-partition': '-1' }],
    ['a missing target revision', { 'statefulset-canary.io/target-revision': '' }],
  ];
  for (const [what, change] of broken) {
    it(`is not trusted with ${what}`, () => {
      assert.equal(decodeState({ ...strings(encodeState(state)), ...change }), undefined);
    });
  }

  it('writes a change cause that names the commit, pull request and run', () => {
    const cause = changeCause('rollout', { commit: state.commit, pullRequest: 42, runUrl: state.runUrl });
    assert.equal(
      cause,
      'statefulset-canary rollout, commit 0123456789ab, PR #42, https://github.com/o/r/actions/runs/1',
    );
  });
});

describe('a parked partition in the recorded state', () => {
  it('reads an original partition of 2147483647 (parked) back, and refuses one above int32', () => {
    const parked = encodeState({ ...state, originalPartition: 2 ** 31 - 1 }) as Record<string, string>;
    assert.equal(decodeState(parked)?.originalPartition, 2 ** 31 - 1);
    assert.equal(
      decodeState({ ...parked, 'statefulset-canary.io/original-partition': '2147483648' }),
      undefined,
    );
  });
});
