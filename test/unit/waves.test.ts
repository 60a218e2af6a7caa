import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterFailure,
  assignWaves,
  fleetOf,
  type WaveCandidate,
  type WaveSpec,
} from '../../src/engine/waves.ts';

const sts = (name: string, labels: Record<string, string> = {}, namespace = 'data'): WaveCandidate => ({
  namespace,
  name,
  labels,
});
const wave = (statefulSets: string[], selector?: string, name?: string): WaveSpec => ({
  name,
  statefulSets,
  selector,
});

const KAFKA = [
  sts('zookeeper'),
  sts('kafka-0', { tier: 'broker' }),
  sts('kafka-1', { tier: 'broker' }),
  sts('cache', { tier: 'cache' }),
];

describe('assignWaves', () => {
  const cases: [string, WaveSpec[], WaveCandidate[], number[][] | RegExp][] = [
    ['No waves: each StatefulSet on its own, in file order', [], KAFKA, [[0], [1], [2], [3]]],
    [
      'Names, globs and selectors, in the order the waves are written',
      [wave(['zookeeper']), wave(['kafka-*']), wave([], 'tier=cache')],
      KAFKA,
      [[0], [1, 2], [3]],
    ],
    [
      'A wave may give names and a selector; a StatefulSet both name is in it once',
      [wave(['zookeeper', 'kafka-0'], 'tier=broker'), wave(['cache'])],
      KAFKA,
      [[0, 1, 2], [3]],
    ],
    ['A namespace/name pattern matches the namespace too', [wave(['data/*'])], KAFKA, [[0, 1, 2, 3]]],
    ['? matches one character', [wave(['kafka-?', 'zookeeper', 'cache'])], KAFKA, [[0, 1, 2, 3]]],
    [
      'A name that is not in the manifests is refused, listing what is',
      [wave(['zookeeper', 'kafka', 'cache'])],
      KAFKA,
      /wave 1: "kafka" names no StatefulSet of the manifests; the manifests hold data\/zookeeper, data\/kafka-0/,
    ],
    [
      'A selector that matches nothing is refused',
      [wave(['*']), wave([], 'tier=db', 'dbs')],
      KAFKA,
      /wave 2 \(dbs\): selector "tier=db" matches no StatefulSet/,
    ],
    [
      'One StatefulSet in two waves is refused, naming both',
      [wave(['zookeeper', 'kafka-*']), wave(['kafka-1', 'cache'], undefined, 'rest')],
      KAFKA,
      /data\/kafka-1 is in wave 1 and in wave 2 \(rest\); name each StatefulSet in one wave only/,
    ],
    [
      'A StatefulSet in no wave is refused (no implicit last wave)',
      [wave(['zookeeper']), wave(['kafka-*'])],
      KAFKA,
      /data\/cache is in no wave; add it to a wave/,
    ],
    [
      'A glob does not cross the namespace/name slash',
      [wave(['*/kafka-0', 'd*'])],
      [sts('kafka-0')],
      /"d\*" names no/,
    ],
  ];
  for (const [title, specs, candidates, want] of cases) {
    it(title, () => {
      const got = assignWaves(specs, candidates);
      if (want instanceof RegExp) {
        assert.equal(got.kind, 'refused');
        assert.match(got.kind === 'refused' ? got.problem : '', want);
      } else assert.deepEqual(got, { kind: 'waves', waves: want });
    });
  }
});

describe('fleetOf', () => {
  const zk = [sts('zookeeper')];
  const brokers = [sts('kafka-0'), sts('kafka-1')];
  it('Each cluster wave in turn, and in it each StatefulSet wave in turn', () => {
    const fleet = fleetOf(
      [zk, brokers],
      ['coordination', undefined],
      [
        { name: undefined, contexts: ['staging'] },
        { name: 'prod', contexts: ['eu-1', 'us-1'] },
      ],
    );
    assert.deepEqual(
      fleet.waves.map((w) => [w.index, w.name, w.members.map((m) => `${m.context}/${m.name}`)]),
      [
        [0, 'staging: coordination', ['staging/zookeeper']],
        [1, 'staging: wave 2', ['staging/kafka-0', 'staging/kafka-1']],
        [2, 'prod: coordination', ['eu-1/zookeeper', 'us-1/zookeeper']],
        [3, 'prod: wave 2', ['eu-1/kafka-0', 'eu-1/kafka-1', 'us-1/kafka-0', 'us-1/kafka-1']],
      ],
    );
  });
  it('One context: waves are named as given, else wave N', () => {
    const fleet = fleetOf([zk, brokers], [undefined, 'brokers'], [{ name: undefined, contexts: ['local'] }]);
    assert.deepEqual(
      fleet.waves.map((w) => w.name),
      ['wave 1', 'brokers'],
    );
  });
});

describe('afterFailure', () => {
  // Waves 0 and 1 done; wave 2 failed, where members 0 and 2 moved (succeeded or stopped).
  const moved = [[0, 1], [0], [0, 2]];
  const cases: [string, 'keep' | 'rollback-wave' | 'rollback', boolean, [number, number][]][] = [
    ['keep: the rest of the wave finishes, nothing rolls back', 'keep', false, []],
    [
      'rollback-wave: the rest of the wave stops and rolls back, newest first; earlier waves stay',
      'rollback-wave',
      true,
      [
        [2, 2],
        [2, 0],
      ],
    ],
    [
      'rollback: the failed wave first, then the waves before it, newest first',
      'rollback',
      true,
      [
        [2, 2],
        [2, 0],
        [1, 0],
        [0, 1],
        [0, 0],
      ],
    ],
  ];
  for (const [title, policy, stop, order] of cases) {
    it(title, () => {
      const plan = afterFailure(policy, 2, moved);
      assert.equal(plan.stopInFlight, stop);
      assert.deepEqual(plan.rollBack, order);
    });
  }
  it('A failure in the first wave has no earlier waves to roll back', () => {
    assert.deepEqual(afterFailure('rollback', 0, [[1]]).rollBack, [[0, 1]]);
  });
});
