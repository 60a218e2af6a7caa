import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blocksController, unhealthyBelow, unhealthyStartMessage } from '../../src/engine/start-health.ts';
import { pod, statefulSet } from '../support/scripted/observations.ts';

const sts = statefulSet({ replicas: 5, partition: 0, currentRevision: 'db-1' });

describe('unhealthy before it starts', () => {
  it('Only pods below the first partition count: the canary itself may be anything', () => {
    const observation = {
      statefulSet: sts,
      pods: [
        pod(0, 'db-1'),
        pod(1, 'db-1', { ready: false, phase: 'Pending' }),
        pod(2, 'db-1', { deleting: true }),
        pod(3, 'db-1'),
        pod(4, 'db-1', { ready: false }),
      ],
    };
    assert.deepEqual(
      unhealthyBelow(observation, 4).map((p) => p.name),
      ['web-1', 'web-2'],
    );
    assert.deepEqual(unhealthyBelow(observation, 1), []);
  });

  it('OrderedReady blocks the controller, Parallel does not', () => {
    assert.equal(blocksController({ statefulSet: sts, pods: [] }), true);
    assert.equal(
      blocksController({ statefulSet: { ...sts, podManagementPolicy: 'Parallel' }, pods: [] }),
      false,
    );
  });

  it('The message names the pods, the partition and why', () => {
    const observation = { statefulSet: sts, pods: [pod(1, 'db-1', { ready: false })] };
    assert.equal(
      unhealthyStartMessage(observation, observation.pods, 4, ['db-1 Pending for 45 s: Unschedulable: x']),
      `${sts.namespace}/${sts.name}: pod web-1 below the first stage's partition 4 is not Ready before the rollout begins: ` +
        'db-1 Pending for 45 s: Unschedulable: x. With podManagementPolicy OrderedReady the controller updates no pod ' +
        'until they are Running and Ready, so the canary stage could only time out',
    );
  });
});
