import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beginStage, decide, type StagedSpec, type StageProgress } from '../../src/engine/decide.ts';
import type { ContainerObservation, Observation, PodObservation } from '../../src/engine/observation.ts';

const NEW = 'web-new';
const OLD = 'web-old';

function container(change: Partial<ContainerObservation> = {}): ContainerObservation {
  return {
    name: 'app',
    image: 'app:2',
    ready: true,
    restartCount: 0,
    waitingReason: undefined,
    waitingMessage: undefined,
    lastTerminationReason: undefined,
    lastTerminationMessage: undefined,
    ...change,
  };
}

function pod(
  ordinal: number,
  change: Partial<PodObservation> = {},
  containerChange: Partial<ContainerObservation> = {},
): PodObservation {
  return {
    name: `web-${ordinal}`,
    ordinal,
    index: ordinal,
    uid: `uid-${ordinal}`,
    revision: OLD,
    phase: 'Running',
    ready: true,
    readySince: 0,
    deleting: false,
    containers: [container(containerChange)],
    ...change,
  };
}

/** Five replicas; pods at or above `updatedFrom` are on the new revision. */
function observation(
  partition: number,
  updatedFrom: number,
  podChange: (p: PodObservation) => PodObservation = (p) => p,
): Observation {
  const pods = [0, 1, 2, 3, 4].map((o) => podChange(pod(o, { revision: o >= updatedFrom ? NEW : OLD })));
  return {
    statefulSet: {
      namespace: 'db',
      name: 'web',
      uid: 'sts',
      resourceVersion: '1',
      generation: 2,
      observedGeneration: 2,
      replicas: 5,
      ordinalsStart: 0,
      partition,
      updateStrategy: 'RollingUpdate',
      podManagementPolicy: 'OrderedReady',
      minReadySeconds: 0,
      currentRevision: OLD,
      updateRevision: NEW,
      readyReplicas: 5,
      updatedReplicas: 5 - updatedFrom,
      availableReplicas: 5,
      annotations: {},
      images: { app: 'app:2' },
      template: {},
    },
    pods,
  };
}

const spec: StagedSpec = {
  targetRevision: NEW,
  partitions: [4, 2, 0],
  gate: { soakMs: 10_000, maxRestarts: 0 },
  stageTimeoutMs: 60_000,
  unstick: 'none',
  replicas: 5,
};

/** Stage 0 began at t=1000; the canary turned Ready at t=2000 (seen live). */
function canaryState(): StageProgress {
  const state = beginStage(0, observation(4, 5), 1000);
  // The API keeps whole seconds: a transition at t=2000..2999 reads as 2000.
  const seen = decide(
    spec,
    state,
    observation(4, 4, (p) => ({ ...p, readySince: 2000 })),
    2000,
  );
  return seen.state;
}

describe('decide', () => {
  it('waits for the controller to observe the partition the runner wrote', () => {
    const d = decide(spec, beginStage(0, undefined, 0), observation(5, 5), 10);
    assert.equal(d.kind, 'wait');
    assert.match(d.kind === 'wait' ? d.waitingFor : '', /observe partition 4/);
  });

  it('waits for the canary pod to move to the new revision', () => {
    const d = decide(spec, beginStage(0, undefined, 0), observation(4, 5), 10);
    assert.equal(d.kind, 'wait');
    assert.match(d.kind === 'wait' ? d.waitingFor : '', /web-4: on revision web-old/);
  });

  it('soaks the canary from the moment it was seen Ready, and wakes exactly when the soak ends', () => {
    const d = decide(spec, canaryState(), observation(4, 4), 5000);
    assert.equal(d.kind, 'wait');
    assert.equal(d.kind === 'wait' ? d.wakeAt : 0, 12_000);
  });

  it('advances to the next partition once the soak has ended', () => {
    const d = decide(spec, canaryState(), observation(4, 4), 12_000);
    assert.deepEqual(d.kind === 'advance' ? [d.stage, d.partition] : d.kind, [1, 2]);
  });

  it('uses minReadySeconds when it is longer than the soak', () => {
    const obs = observation(4, 4);
    const slow = { ...obs, statefulSet: { ...obs.statefulSet, minReadySeconds: 20 } };
    const d = decide(spec, canaryState(), slow, 12_000);
    assert.equal(d.kind === 'wait' ? d.wakeAt : 0, 22_000);
  });

  it('rounds a Ready time it did not see up to the next second, since the API keeps whole seconds', () => {
    const state = beginStage(0, undefined, 50_000);
    const d = decide(
      spec,
      state,
      observation(4, 4, (p) => ({ ...p, readySince: 40_000 })),
      50_000,
    );
    assert.equal(d.state.readySeen['web-4']?.value, 41_000);
  });

  it('fails at once on CrashLoopBackOff, naming the pod, the container and the reason', () => {
    const crash = (p: PodObservation) =>
      p.ordinal === 4
        ? {
            ...p,
            ready: false,
            containers: [
              container({
                ready: false,
                waitingReason: 'CrashLoopBackOff',
                restartCount: 3,
                lastTerminationMessage: 'boom',
              }),
            ],
          }
        : p;
    const d = decide(spec, beginStage(0, undefined, 0), observation(4, 4, crash), 10);
    assert.equal(d.kind, 'fail');
    if (d.kind !== 'fail') return;
    assert.deepEqual(
      [d.failure.pod, d.failure.container, d.failure.reason, d.failure.stage],
      ['web-4', 'app', 'CrashLoopBackOff', 1],
    );
    assert.equal(d.failure.terminationMessage, 'boom');
  });

  for (const reason of [
    'ImagePullBackOff',
    'ErrImagePull',
    'CreateContainerConfigError',
    'InvalidImageName',
  ]) {
    it(`fails at once on ${reason} while the pod is Pending`, () => {
      const stuck = (p: PodObservation) =>
        p.ordinal === 4
          ? {
              ...p,
              phase: 'Pending',
              ready: false,
              containers: [container({ ready: false, waitingReason: reason })],
            }
          : p;
      const d = decide(spec, beginStage(0, undefined, 0), observation(4, 4, stuck), 10);
      assert.equal(d.kind === 'fail' ? d.failure.reason : d.kind, reason);
    });
  }

  it('fails a pod in phase Failed', () => {
    const failed = (p: PodObservation) => (p.ordinal === 4 ? { ...p, phase: 'Failed', ready: false } : p);
    const d = decide(spec, beginStage(0, undefined, 0), observation(4, 4, failed), 10);
    assert.equal(d.kind === 'fail' ? d.failure.reason : d.kind, 'PodFailed');
  });

  it('fails a pod that restarted more than max-restarts since the stage began', () => {
    const restarted = (p: PodObservation) =>
      p.ordinal === 4 ? { ...p, containers: [container({ restartCount: 1 })] } : p;
    const d = decide(spec, canaryState(), observation(4, 4, restarted), 3000);
    assert.equal(d.kind === 'fail' ? d.failure.reason : d.kind, 'TooManyRestarts');
  });

  it('tolerates restarts up to max-restarts', () => {
    const lenient = { ...spec, gate: { ...spec.gate, maxRestarts: 1 } };
    const restarted = (p: PodObservation) =>
      p.ordinal === 4 ? { ...p, containers: [container({ restartCount: 1 })] } : p;
    const d = decide(lenient, canaryState(), observation(4, 4, restarted), 3000);
    assert.equal(d.kind, 'wait');
  });

  it('does not count restarts from before the stage began', () => {
    const old = (p: PodObservation) => ({ ...p, containers: [container({ restartCount: 2 })] });
    const state = beginStage(0, observation(4, 5, old), 0);
    const d = decide(
      spec,
      state,
      observation(4, 4, (p) => (p.ordinal < 4 ? old(p) : p)),
      10,
    );
    assert.equal(d.kind, 'wait');
  });

  it('fails an unready canary at the stage timeout, naming the pod', () => {
    const unready = (p: PodObservation) =>
      p.ordinal === 4 ? { ...p, ready: false, readySince: undefined } : p;
    const d = decide(spec, beginStage(0, undefined, 0), observation(4, 4, unready), 60_000);
    assert.equal(d.kind, 'fail');
    if (d.kind !== 'fail') return;
    assert.equal(d.failure.reason, 'StageTimeout');
    assert.equal(d.failure.pod, 'web-4');
    assert.match(d.failure.message, /not Ready/);
  });

  it('stops when someone else changes the template during the rollout', () => {
    const obs = observation(4, 4);
    const other = { ...obs, statefulSet: { ...obs.statefulSet, updateRevision: 'web-other' } };
    const d = decide(spec, canaryState(), other, 3000);
    assert.equal(d.kind === 'fail' ? d.failure.reason : d.kind, 'RevisionChanged');
  });

  it('ignores pods below the partition, whatever their state', () => {
    const broken = (p: PodObservation) =>
      p.ordinal === 0
        ? { ...p, ready: false, containers: [container({ waitingReason: 'CrashLoopBackOff' })] }
        : p;
    const d = decide(spec, canaryState(), observation(4, 4, broken), 12_000);
    assert.equal(d.kind, 'advance');
  });

  it('completes after the last stage once currentRevision equals updateRevision', () => {
    const last = beginStage(2, undefined, 0);
    const obs = observation(0, 0);
    const waiting = decide(spec, last, obs, 100);
    assert.equal(waiting.kind, 'wait');
    const done = { ...obs, statefulSet: { ...obs.statefulSet, currentRevision: NEW } };
    const ready = decide(spec, waiting.state, done, 20_000);
    assert.equal(ready.kind, 'complete');
  });

  it('deletes pods stuck on another revision when unsticking, once each', () => {
    const rollback: StagedSpec = {
      ...spec,
      targetRevision: OLD,
      partitions: [4],
      unstick: 'any',
      gate: { soakMs: 0, maxRestarts: 9 },
    };
    const stuck = (p: PodObservation) =>
      p.ordinal === 4
        ? { ...p, ready: false, containers: [container({ waitingReason: 'CrashLoopBackOff' })] }
        : p;
    const obs = { ...observation(4, 4, stuck) };
    const first = decide(
      rollback,
      beginStage(0, undefined, 0),
      { ...obs, statefulSet: { ...obs.statefulSet, updateRevision: OLD } },
      10,
    );
    assert.deepEqual(first.kind === 'unstick' ? first.pods : first.kind, [{ name: 'web-4', uid: 'uid-4' }]);
    const again = decide(
      rollback,
      first.state,
      { ...obs, statefulSet: { ...obs.statefulSet, updateRevision: OLD } },
      20,
    );
    assert.equal(again.kind, 'wait');
  });
});

/** The same five pods with `spec.ordinals.start`: names and ordinals shift, indexes stay 0..4. */
function startingAt(start: number, obs: Observation): Observation {
  return {
    statefulSet: { ...obs.statefulSet, ordinalsStart: start },
    pods: obs.pods.map((p) => ({ ...p, name: `web-${p.ordinal + start}`, ordinal: p.ordinal + start })),
  };
}

describe('decide with spec.ordinals.start (pods web-10..web-14)', () => {
  const cases: {
    name: string;
    partition: number;
    /** Index from which pods are on the new revision. */
    updatedFrom: number;
    stage: number;
    want: string;
  }[] = [
    {
      name: 'The canary is web-14 (index 4): the stage waits for it, not for web-10',
      partition: 4,
      updatedFrom: 5,
      stage: 0,
      want: 'wait: web-14: on revision web-old',
    },
    {
      name: 'A healthy web-14 passes the canary stage while web-10..web-13 stay on the old revision',
      partition: 4,
      updatedFrom: 4,
      stage: 0,
      want: 'advance: 2',
    },
    {
      name: 'Partition 2 gates web-13 and web-12 and nothing below',
      partition: 2,
      updatedFrom: 3,
      stage: 1,
      want: 'wait: web-12: on revision web-old',
    },
    {
      name: 'Partition 0 ends with every pod from web-10 up on the new revision',
      partition: 0,
      updatedFrom: 0,
      stage: 2,
      want: 'wait: the controller to set currentRevision',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const obs = startingAt(10, observation(c.partition, c.updatedFrom));
      const noSoak: StagedSpec = { ...spec, gate: { soakMs: 0, maxRestarts: 0 } };
      const d = decide(noSoak, beginStage(c.stage, undefined, 0), obs, 10);
      const got =
        d.kind === 'wait'
          ? `wait: ${d.waitingFor}`
          : d.kind === 'advance'
            ? `advance: ${d.partition}`
            : d.kind;
      assert.ok(got.startsWith(c.want), `${got} does not start with ${c.want}`);
    });
  }

  it('names the missing pods by ordinal: with start 10 and partition 4, web-14 is missing', () => {
    const obs = startingAt(10, observation(4, 4));
    const without = { ...obs, pods: obs.pods.filter((p) => p.ordinal !== 14) };
    const d = decide(spec, beginStage(0, undefined, 0), without, 10);
    assert.equal(d.kind === 'wait' ? d.waitingFor : d.kind, '1 pod(s) with ordinal >= 14 to be created');
  });

  it('unsticks web-14, not web-10, when the canary index is stuck on a stale revision', () => {
    const obs = startingAt(
      10,
      observation(4, 5, (p) => ({ ...p, revision: 'web-halted', ready: false, readySince: undefined })),
    );
    const staleSpec: StagedSpec = { ...spec, unstick: 'stale' };
    const d = decide(staleSpec, beginStage(0, undefined, 0), obs, 10);
    assert.deepEqual(d.kind === 'unstick' ? d.pods.map((p) => p.name) : d.kind, ['web-14']);
  });
});

describe('decide with minReadySeconds: a stage passes once the controller counts its pods available', () => {
  const cases: {
    name: string;
    minReadySeconds: number;
    availableReplicas: number;
    now: number;
    want: string;
  }[] = [
    {
      name: 'Waits for the canary to be counted in availableReplicas after its own minReadySeconds',
      minReadySeconds: 20,
      availableReplicas: 4,
      now: 22_000,
      want: 'wait: availableReplicas 4 to reach the 5 Ready pod(s)',
    },
    {
      name: 'Passes once availableReplicas counts every Ready pod',
      minReadySeconds: 20,
      availableReplicas: 5,
      now: 22_000,
      want: 'advance: 2',
    },
    {
      name: 'Never passes before minReadySeconds, even when the controller already counts the pod',
      minReadySeconds: 20,
      availableReplicas: 5,
      now: 21_999,
      want: 'wait: web-4: Ready, soaking',
    },
    {
      name: 'Without minReadySeconds availableReplicas is not waited for (available is Ready)',
      minReadySeconds: 0,
      availableReplicas: 4,
      now: 12_000,
      want: 'advance: 2',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const obs = observation(4, 4);
      const sts = {
        ...obs.statefulSet,
        minReadySeconds: c.minReadySeconds,
        availableReplicas: c.availableReplicas,
      };
      const d = decide(spec, canaryState(), { ...obs, statefulSet: sts }, c.now);
      const got =
        d.kind === 'wait'
          ? `wait: ${d.waitingFor}`
          : d.kind === 'advance'
            ? `advance: ${d.partition}`
            : d.kind;
      assert.ok(got.startsWith(c.want), `${got} does not start with ${c.want}`);
    });
  }
});
