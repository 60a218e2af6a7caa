// Kubernetes JSON -> observations (the shapes come from the local control plane's responses).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  podOrdinal,
  selectorString,
  toObservation,
  toPodObservation,
  toRevisionInfo,
  toStatefulSetObservation,
} from '../../src/adapters/kubernetes/translate.ts';
import type { RawPod, RawStatefulSet } from '../../src/adapters/kubernetes/types.ts';

const sts: RawStatefulSet = {
  metadata: {
    name: 'db',
    namespace: 'shop',
    uid: 'sts-uid',
    resourceVersion: '42',
    generation: 3,
    annotations: { 'kubernetes.io/change-cause': 'v2' },
  },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'db' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
    podManagementPolicy: 'Parallel',
    minReadySeconds: 5,
    template: {
      spec: {
        initContainers: [{ name: 'migrate', image: 'registry.local/migrate:v2' }],
        containers: [{ name: 'db', image: 'registry.local/db:v2' }],
      },
    },
  },
  status: {
    observedGeneration: 3,
    currentRevision: 'db-aaa',
    updateRevision: 'db-bbb',
    readyReplicas: 2,
    updatedReplicas: 1,
    availableReplicas: 2,
  },
};

function pod(name: string, extra: Partial<RawPod> = {}): RawPod {
  return {
    metadata: {
      name,
      uid: `${name}-uid`,
      labels: { app: 'db', 'controller-revision-hash': 'db-aaa' },
      ownerReferences: [{ kind: 'StatefulSet', name: 'db', uid: 'sts-uid', controller: true }],
    },
    spec: { containers: [{ name: 'db', image: 'registry.local/db:v1' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z' }],
      containerStatuses: [{ name: 'db', ready: true, restartCount: 0, state: { running: {} } }],
    },
    ...extra,
  };
}

describe('translating a StatefulSet', () => {
  it('takes every field the engine needs, with the controller defaults for omitted ones', () => {
    const observed = toStatefulSetObservation(sts);
    assert.deepEqual(
      { ...observed, template: undefined },
      {
        namespace: 'shop',
        name: 'db',
        uid: 'sts-uid',
        resourceVersion: '42',
        generation: 3,
        observedGeneration: 3,
        replicas: 3,
        ordinalsStart: 0,
        partition: 2,
        maxUnavailable: undefined,
        partitionManager: undefined,
        partitionOwners: [],
        updateStrategy: 'RollingUpdate',
        podManagementPolicy: 'Parallel',
        minReadySeconds: 5,
        currentRevision: 'db-aaa',
        updateRevision: 'db-bbb',
        readyReplicas: 2,
        updatedReplicas: 1,
        availableReplicas: 2,
        annotations: { 'kubernetes.io/change-cause': 'v2' },
        images: { migrate: 'registry.local/migrate:v2', db: 'registry.local/db:v2' },
        template: undefined,
      },
    );
    assert.equal(observed.template, sts.spec?.template);
  });

  it('reads a StatefulSet the server has not reported on yet as zeros and defaults', () => {
    const observed = toStatefulSetObservation({ metadata: { name: 'new' } });
    assert.deepEqual(
      [
        observed.replicas,
        observed.partition,
        observed.updateStrategy,
        observed.podManagementPolicy,
        observed.updateRevision,
      ],
      [1, 0, 'RollingUpdate', 'OrderedReady', ''],
    );
  });
});

describe('pod ordinals', () => {
  const cases: [string, string, number | undefined][] = [
    ['db-0', 'db', 0],
    ['db-12', 'db', 12],
    ['db-web-3', 'db-web', 3],
    ['db-web-3', 'db', undefined],
    ['db-01', 'db', undefined],
    ['db-', 'db', undefined],
    ['other-1', 'db', undefined],
  ];
  for (const [name, owner, ordinal] of cases) {
    it(`reads ${name} of StatefulSet ${owner} as ${ordinal}`, () => {
      assert.equal(podOrdinal(name, owner), ordinal);
    });
  }
});

describe('translating pods', () => {
  it('takes the revision label, every label, readiness and the time it became ready', () => {
    const observed = toPodObservation(pod('db-1'), 'db');
    assert.deepEqual(observed, {
      name: 'db-1',
      ordinal: 1,
      index: 1,
      uid: 'db-1-uid',
      revision: 'db-aaa',
      labels: { app: 'db', 'controller-revision-hash': 'db-aaa' },
      phase: 'Running',
      ready: true,
      readySince: Date.parse('2026-01-02T03:04:05Z'),
      deleting: false,
      containers: [
        {
          name: 'db',
          image: 'registry.local/db:v1',
          ready: true,
          restartCount: 0,
          waitingReason: undefined,
          waitingMessage: undefined,
          lastTerminationReason: undefined,
          lastTerminationMessage: undefined,
        },
      ],
    });
  });

  it('reports a crash-looping container with its last termination, not ready and with no readySince', () => {
    const observed = toPodObservation(
      pod('db-2', {
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2026-01-02T03:04:05Z' }],
          containerStatuses: [
            {
              name: 'db',
              ready: false,
              restartCount: 4,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
              lastState: { terminated: { reason: 'Error', message: 'exit 1', exitCode: 1 } },
            },
          ],
        },
      }),
      'db',
    );
    assert.equal(observed?.ready, false);
    assert.equal(observed?.readySince, undefined);
    assert.deepEqual(observed?.containers[0], {
      name: 'db',
      image: 'registry.local/db:v1',
      ready: false,
      restartCount: 4,
      waitingReason: 'CrashLoopBackOff',
      waitingMessage: 'back-off 40s',
      lastTerminationReason: 'Error',
      lastTerminationMessage: 'exit 1',
    });
  });

  it('lists the containers of a pod that has no status yet', () => {
    const observed = toPodObservation(pod('db-0', { status: { phase: 'Pending' } }), 'db');
    assert.deepEqual(
      observed?.containers.map((c) => [c.name, c.ready, c.restartCount, c.waitingReason]),
      [['db', false, 0, undefined]],
    );
    assert.equal(observed?.phase, 'Pending');
  });

  it('keeps an init container while it has not succeeded, and drops it once it has', () => {
    const withInit = (exitCode: number | undefined, reason?: string): RawPod =>
      pod('db-0', {
        spec: {
          initContainers: [{ name: 'migrate', image: 'registry.local/migrate:v2' }],
          containers: [{ name: 'db', image: 'registry.local/db:v2' }],
        },
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            {
              name: 'migrate',
              restartCount: 2,
              state: exitCode === undefined ? { waiting: { reason } } : { terminated: { exitCode } },
            },
          ],
        },
      });
    const failing = toPodObservation(withInit(undefined, 'CrashLoopBackOff'), 'db');
    assert.deepEqual(
      failing?.containers.map((c) => [c.name, c.waitingReason, c.restartCount]),
      [
        ['migrate', 'CrashLoopBackOff', 2],
        ['db', undefined, 0],
      ],
    );
    const done = toPodObservation(withInit(0), 'db');
    assert.deepEqual(
      done?.containers.map((c) => c.name),
      ['db'],
    );
  });

  it('marks a pod with a deletionTimestamp as deleting', () => {
    const deleting = pod('db-0');
    const observed = toPodObservation(
      { ...deleting, metadata: { ...deleting.metadata, deletionTimestamp: '2026-01-02T03:04:05Z' } },
      'db',
    );
    assert.equal(observed?.deleting, true);
  });
});

describe('an observation', () => {
  it('gives each pod its index from spec.ordinals.start (db-14 of a StatefulSet starting at 10 is index 4)', () => {
    const started = { ...sts, spec: { ...sts.spec, ordinals: { start: 10 } } };
    const observation = toObservation(started, [pod('db-14'), pod('db-10')]);
    assert.equal(observation.statefulSet.ordinalsStart, 10);
    assert.deepEqual(
      observation.pods.map((p) => [p.name, p.ordinal, p.index]),
      [
        ['db-10', 10, 0],
        ['db-14', 14, 4],
      ],
    );
  });

  it('holds only the pods the StatefulSet owns, by ordinal', () => {
    const stranger = pod('db-5');
    const observation = toObservation(sts, [
      pod('db-2'),
      pod('db-0'),
      { ...stranger, metadata: { ...stranger.metadata, ownerReferences: [{ uid: 'someone-else' }] } },
      pod('db-1'),
    ]);
    assert.deepEqual(
      observation.pods.map((p) => p.name),
      ['db-0', 'db-1', 'db-2'],
    );
  });
});

describe('label selectors', () => {
  const cases: [string, Parameters<typeof selectorString>[0], string][] = [
    ['match labels', { matchLabels: { app: 'db', tier: 'data' } }, 'app=db,tier=data'],
    [
      'every expression operator',
      {
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['x', 'y'] },
          { key: 'b', operator: 'NotIn', values: ['z'] },
          { key: 'c', operator: 'Exists' },
          { key: 'd', operator: 'DoesNotExist' },
        ],
      },
      'a in (x,y),b notin (z),c,!d',
    ],
    ['nothing', undefined, ''],
  ];
  for (const [name, selector, expected] of cases) {
    it(`writes ${name} as "${expected}"`, () => {
      assert.equal(selectorString(selector), expected);
    });
  }
});

describe('revisions', () => {
  it('take the number, the hash after the StatefulSet name, the change cause and the images', () => {
    const info = toRevisionInfo(
      {
        metadata: {
          name: 'db-7d9f8c6b5',
          annotations: { 'kubernetes.io/change-cause': 'commit abc, PR #7' },
        },
        revision: 4,
        data: {
          spec: {
            template: {
              $patch: 'replace',
              spec: { containers: [{ name: 'db', image: 'registry.local/db:v2' }] },
            },
          },
        },
      },
      'db',
    );
    assert.deepEqual(info, {
      name: 'db-7d9f8c6b5',
      hash: '7d9f8c6b5',
      number: 4,
      changeCause: 'commit abc, PR #7',
      images: { db: 'registry.local/db:v2' },
      failed: undefined,
    });
  });
});

describe('who wrote the partition', () => {
  const entry = (manager: string, time: string, partition: boolean) => ({
    manager,
    operation: 'Update' as const,
    time,
    fieldsV1: partition
      ? { 'f:spec': { 'f:updateStrategy': { 'f:rollingUpdate': { 'f:partition': {} } } } }
      : { 'f:spec': { 'f:replicas': {} } },
  });
  it('names the manager whose entry owns spec.updateStrategy.rollingUpdate.partition', () => {
    const managedFields = [
      entry('statefulset-canary', '2026-11-29T08:00:00Z', false),
      entry('kubectl-patch', '2026-11-29T08:01:00Z', true),
    ];
    assert.equal(
      toStatefulSetObservation({ ...sts, metadata: { ...sts.metadata, managedFields } }).partitionManager,
      'kubectl-patch',
    );
  });
  it('takes the latest writer when two managers share the field', () => {
    const managedFields = [
      entry('kubectl-patch', '2026-11-29T08:01:00Z', true),
      entry('statefulset-canary', '2026-11-29T08:02:00Z', true),
    ];
    assert.equal(
      toStatefulSetObservation({ ...sts, metadata: { ...sts.metadata, managedFields } }).partitionManager,
      'statefulset-canary',
    );
  });
});
