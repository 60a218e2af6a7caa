import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Observation, PodObservation } from '../../src/engine/observation.ts';
import { Watched } from '../../src/runner/stages/waker.ts';
import { type PodOptions, pod as scriptedPod } from '../support/scripted/observations.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

const NEW = 'web-new';
const spec = { targetRevision: NEW };

/** Pod web-<ordinal> with uid `uid-<ordinal>`, on web-old unless told otherwise. */
function pod(ordinal: number, o: PodOptions = {}, revision = 'web-old'): PodObservation {
  return scriptedPod(ordinal, revision, { uid: `uid-${ordinal}`, ...o });
}

function observation(pods: PodObservation[]): Observation {
  return { statefulSet: {} as Observation['statefulSet'], pods };
}

describe('the pod lines of the stage log', () => {
  it('logs each pod once, then only the pods whose line changed', () => {
    const log = recordingLog();
    const seen = new Watched();
    const pods = [pod(0), pod(1), pod(2)];
    seen.logPodChanges(log, observation(pods), spec);
    assert.equal(log.lines.length, 3);
    // The same pods again (an event of another pod, or of the StatefulSet): nothing new.
    seen.logPodChanges(log, observation(pods), spec);
    assert.equal(log.lines.length, 3);
    // Pod 1 is replaced on the new revision, not Ready yet; pod 2 comes as a new object, unchanged.
    seen.logPodChanges(
      log,
      observation([pods[0] as PodObservation, pod(1, { ready: false }, NEW), pod(2)]),
      spec,
    );
    assert.deepEqual(log.lines.slice(3), ['info: web-1: new revision (web-new), Running, not Ready']);
  });

  it('logs a pod again when it changes back to a line logged before', () => {
    const log = recordingLog();
    const seen = new Watched();
    seen.logPodChanges(log, observation([pod(0)]), spec);
    seen.logPodChanges(log, observation([pod(0, { ready: false })]), spec);
    seen.logPodChanges(log, observation([pod(0)]), spec);
    assert.deepEqual(log.lines, [
      'info: web-0: old revision (web-old), Running, Ready',
      'info: web-0: old revision (web-old), Running, not Ready',
      'info: web-0: old revision (web-old), Running, Ready',
    ]);
  });
});
