import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodObservation } from '../../src/engine/observation.ts';
import { beginStage, trackReadiness } from '../../src/engine/stage.ts';
import { type PodOptions, pod as scriptedPod } from '../support/scripted/observations.ts';

/** Pod web-<ordinal> on web-new with uid `uid-<ordinal>`, its Ready time unknown (marked at `now`). */
function pod(ordinal: number, o: PodOptions = {}): PodObservation {
  return { ...scriptedPod(ordinal, 'web-new', { uid: `uid-${ordinal}`, ...o }), readySince: undefined };
}

const start = beginStage(0, undefined, 1000, 1);

describe('when pods were first seen Ready', () => {
  it('marks each Ready pod at the time it was first seen Ready', () => {
    const state = trackReadiness(start, [pod(0), pod(1, { ready: false })], 5000);
    assert.deepEqual(state.readySeen, { 'web-0': { uid: 'uid-0', value: 5000 } });
  });

  it('keeps the marks as they are while no pod changes its readiness', () => {
    const pods = [pod(0), pod(1)];
    const first = trackReadiness(start, pods, 5000);
    const later = trackReadiness(first, [...pods, pod(2, { ready: false })], 9000);
    assert.equal(later, first);
    assert.deepEqual(later.readySeen, {
      'web-0': { uid: 'uid-0', value: 5000 },
      'web-1': { uid: 'uid-1', value: 5000 },
    });
  });

  it('forgets a pod that is no longer Ready, and marks a replaced pod again', () => {
    const first = trackReadiness(start, [pod(0), pod(1)], 5000);
    const notReady = trackReadiness(first, [pod(0), pod(1, { ready: false })], 6000);
    assert.deepEqual(notReady.readySeen, { 'web-0': { uid: 'uid-0', value: 5000 } });
    const replaced = trackReadiness(notReady, [pod(0, { uid: 'uid-0b' }), pod(1)], 7000);
    assert.deepEqual(replaced.readySeen, {
      'web-0': { uid: 'uid-0b', value: 7000 },
      'web-1': { uid: 'uid-1', value: 7000 },
    });
  });

  it('forgets a pod that is gone or terminating', () => {
    const first = trackReadiness(start, [pod(0), pod(1)], 5000);
    assert.deepEqual(trackReadiness(first, [pod(0)], 6000).readySeen, {
      'web-0': { uid: 'uid-0', value: 5000 },
    });
    assert.deepEqual(trackReadiness(first, [pod(0), pod(1, { deleting: true })], 6000).readySeen, {
      'web-0': { uid: 'uid-0', value: 5000 },
    });
  });
});
