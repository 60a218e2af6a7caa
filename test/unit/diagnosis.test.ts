import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderReport } from '../../src/adapters/github/markdown/report.ts';
import {
  ageText,
  type ClaimEvidence,
  diagnose,
  diagnosisLine,
  type PodEvidence,
} from '../../src/engine/diagnosis.ts';
import type { RolloutReport } from '../../src/engine/report.ts';

const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function pod(overrides: Partial<PodEvidence> = {}): PodEvidence {
  return {
    pod: 'myapp-4',
    phase: 'Pending',
    createdAt: t0,
    deleting: false,
    conditions: [],
    containers: [],
    events: [],
    claims: [],
    unreadable: [],
    ...overrides,
  };
}

function claim(overrides: Partial<ClaimEvidence> = {}): ClaimEvidence {
  return {
    name: 'myappdata-myapp-4',
    phase: 'Pending',
    storageClass: undefined,
    storageClassExists: undefined,
    events: [],
    ...overrides,
  };
}

const unschedulable = {
  type: 'PodScheduled',
  status: 'False',
  reason: 'Unschedulable',
  message: '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.',
  since: t0,
};

const line = (evidence: PodEvidence, now = t0 + 45_000) => diagnosisLine(diagnose(evidence), now);

describe('diagnosis: why a pod is stuck, in one line', () => {
  it('A claim whose StorageClass does not exist is named, and waiting cannot help', () => {
    const evidence = pod({
      conditions: [unschedulable],
      claims: [claim({ storageClass: 'gluster-dynamic', storageClassExists: false, staticVolumes: false })],
    });
    assert.equal(
      line(evidence),
      'myapp-4 Pending for 45 s: PersistentVolumeClaim myappdata-myapp-4 is Pending: storageclass "gluster-dynamic" not found',
    );
    assert.equal(diagnose(evidence).fatal, 'StorageClassNotFound');
  });

  it('A claim with no class says what the binder said, and is not fatal', () => {
    const message = 'no persistent volumes available for this claim and no storage class is set';
    const evidence = pod({
      conditions: [unschedulable],
      claims: [claim({ events: [{ reason: 'FailedBinding', message, count: 3, lastSeen: t0 }] })],
    });
    assert.equal(
      line(evidence),
      `myapp-4 Pending for 45 s: PersistentVolumeClaim myappdata-myapp-4 is Pending: ${message}`,
    );
    assert.equal(diagnose(evidence).fatal, undefined);
  });

  it('A class with no StorageClass object but static volumes of that class waits (they may free up)', () => {
    const manual = claim({ storageClass: 'manual', storageClassExists: false, staticVolumes: true });
    const evidence = pod({
      claims: [
        {
          ...manual,
          events: [
            {
              reason: 'FailedBinding',
              message: 'no persistent volumes available for this claim',
              count: 2,
              lastSeen: t0,
            },
          ],
        },
      ],
    });
    assert.equal(
      line(evidence),
      'myapp-4 Pending for 45 s: PersistentVolumeClaim myappdata-myapp-4 is Pending: no persistent volumes available for this claim',
    );
    assert.equal(diagnose(evidence).fatal, undefined);
    const unknown = pod({ claims: [claim({ storageClass: 'x', storageClassExists: false })] });
    assert.equal(diagnose(unknown).fatal, undefined, 'volumes not readable: not fatal');
  });

  it('A multi-line message stays on one line', () => {
    const evidence = pod({
      events: [{ reason: 'FailedMount', message: 'a\nb\n  c', count: 1, lastSeen: t0 }],
    });
    assert.match(line(evidence), /: FailedMount: a b c$/);
  });

  it('A Lost claim is fatal', () => {
    assert.equal(diagnose(pod({ claims: [claim({ phase: 'Lost' })] })).fatal, 'ClaimLost');
  });

  it('A bound claim gives way to the scheduler condition, which an autoscaler may fix (not fatal)', () => {
    const evidence = pod({
      conditions: [{ ...unschedulable, message: '0/1 nodes are available: 1 Insufficient cpu.' }],
      claims: [claim({ phase: 'Bound' })],
    });
    assert.equal(
      line(evidence, t0 + 130_000),
      'myapp-4 Pending for 2 min 10 s: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.',
    );
    assert.equal(diagnose(evidence).fatal, undefined);
  });

  it('ContainerCreating with FailedMount says the mount error', () => {
    const message =
      'MountVolume.NewMounter initialization failed for volume "local-pv-3" : path "/mnt/disks/ssd3" does not exist';
    const evidence = pod({
      conditions: [
        { type: 'PodScheduled', status: 'True', reason: undefined, message: undefined, since: t0 + 1000 },
      ],
      containers: [
        {
          name: 'app',
          ready: false,
          waitingReason: 'ContainerCreating',
          waitingMessage: undefined,
          lastTermination: undefined,
        },
      ],
      events: [{ reason: 'FailedMount', message, count: 4, lastSeen: t0 + 40_000 }],
    });
    assert.equal(line(evidence), `myapp-4 ContainerCreating for 44 s: FailedMount: ${message}`);
    assert.equal(diagnose(evidence).fatal, undefined);
  });

  it('A volume from a ConfigMap that does not exist is fatal', () => {
    const evidence = pod({
      events: [
        {
          reason: 'FailedMount',
          message: 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found',
          count: 1,
          lastSeen: t0,
        },
      ],
    });
    assert.equal(diagnose(evidence).fatal, 'VolumeSourceNotFound');
  });

  it('Running and not Ready says what the readiness probe said', () => {
    const evidence = pod({
      phase: 'Running',
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'ContainersNotReady',
          message: undefined,
          since: t0 + 5000,
        },
      ],
      containers: [
        {
          name: 'app',
          ready: false,
          waitingReason: undefined,
          waitingMessage: undefined,
          lastTermination: undefined,
        },
      ],
      events: [
        {
          reason: 'Unhealthy',
          message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
          count: 7,
          lastSeen: t0,
        },
      ],
    });
    assert.equal(
      line(evidence),
      'myapp-4 Running, not Ready for 40 s: Readiness probe failed: HTTP probe failed with statuscode: 503 (7 times)',
    );
  });

  it('A crash loop names the last exit', () => {
    const evidence = pod({
      phase: 'Running',
      containers: [
        {
          name: 'app',
          ready: false,
          waitingReason: 'CrashLoopBackOff',
          waitingMessage: 'back-off 10s restarting failed container',
          lastTermination: { reason: 'Error', exitCode: 3, message: 'config missing\nmore' },
        },
      ],
    });
    assert.match(line(evidence), /container app CrashLoopBackOff: back-off 10s .* \(last exit 3 Error\)$/);
  });

  it('What could not be read is said, and the line still says what is known', () => {
    const evidence = pod({
      conditions: [unschedulable],
      unreadable: ['events (forbidden)', 'persistentvolumeclaims (forbidden)'],
    });
    assert.equal(
      line(evidence),
      'myapp-4 Pending for 45 s: Unschedulable: 0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. (could not read events (forbidden), persistentvolumeclaims (forbidden))',
    );
  });

  it('Ages read as people say them', () => {
    assert.deepEqual(
      [ageText(0), ageText(45_900), ageText(125_000), ageText(7_500_000)],
      ['0 s', '45 s', '2 min 5 s', '2 h 5 min'],
    );
  });
});

describe('diagnosis in the report', () => {
  const base: RolloutReport = {
    kind: 'rollout',
    context: 'dev',
    namespace: 'shop',
    name: 'myapp',
    verdict: 'in-progress',
    replicas: 5,
    previousRevision: 'myapp-1',
    revision: 'myapp-2',
    images: [],
    stages: [
      {
        stage: 1,
        partition: 4,
        ordinals: [4],
        updated: 1,
        state: 'progressing',
        startedAt: t0,
        endedAt: undefined,
        stuck: ['myapp-4 Pending for 45 s: <b>x</b> @team `tick` [link](https://evil.example)'],
      },
    ],
    failure: undefined,
    rollback: undefined,
    runUrl: undefined,
    startedAt: t0,
    updatedAt: t0 + 45_000,
  };

  it('A stage in progress lists its stuck pods in code spans', () => {
    const markdown = renderReport(base);
    assert.match(
      markdown,
      /#### ⏳ Waiting on\n\nStage 1:\n\n- ``myapp-4 Pending for 45 s: <b>x<\/b> @team `tick` \[link\]\(https:\/\/evil.example\)``/,
    );
  });

  it('A failure lists why under its message, and the waiting list is gone', () => {
    const markdown = renderReport({
      ...base,
      verdict: 'failed',
      failure: {
        stage: 1,
        pod: 'myapp-4',
        container: undefined,
        reason: 'StorageClassNotFound',
        message: 'waiting cannot help',
        terminationMessage: undefined,
        diagnosis: [
          'myapp-4 Pending for 12 s: PersistentVolumeClaim d is Pending: storageclass "x" not found',
        ],
      },
    });
    assert.match(
      markdown,
      /- \*\*Why:\*\*\n {2}- `myapp-4 Pending for 12 s: PersistentVolumeClaim d is Pending: storageclass "x" not found`/,
    );
    assert.doesNotMatch(markdown, /Waiting on/);
  });
});
