import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { githubReporting } from '../../src/adapters/github/wiring.ts';
import type { Settings } from '../../src/config/settings.ts';
import type { Observation } from '../../src/engine/observation.ts';
import { encodeState } from '../../src/engine/state.ts';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { fastRetry, runContext, settings, stageReport } from '../support/github/helpers.ts';
import { recordingLog } from '../support/scripted/recording-log.ts';

function observation(annotations: Record<string, string>): Observation {
  return {
    statefulSet: {
      namespace: 'shop',
      name: 'web',
      uid: 'u1',
      resourceVersion: '1',
      generation: 2,
      observedGeneration: 2,
      replicas: 5,
      ordinalsStart: 0,
      partition: 0,
      updateStrategy: 'RollingUpdate',
      podManagementPolicy: 'OrderedReady',
      minReadySeconds: 0,
      currentRevision: 'web-1',
      updateRevision: 'web-1',
      readyReplicas: 5,
      updatedReplicas: 5,
      availableReplicas: 5,
      annotations,
      images: { app: 'app:1' },
      template: {},
    },
    pods: [],
  };
}

const recorded = encodeState({
  kind: 'rollout',
  phase: 'succeeded',
  stage: 3,
  targetRevision: 'web-2',
  previousRevision: 'web-1',
  originalPartition: 0,
  runUrl: undefined,
  commit: undefined,
  pullRequest: 21,
});

describe('githubReporting (the action wiring)', () => {
  let fake: FakeGitHub;
  beforeEach(async () => {
    fake = await startFakeGitHub();
  });
  afterEach(async () => {
    await fake.close();
    assert.deepEqual(fake.violations, []);
  });

  function rollbackSettings(): Settings {
    return {
      command: 'rollback',
      statefulset: 'web',
      namespace: undefined,
      github: settings(fake),
    } as Partial<Settings> as Settings;
  }

  it('reports a manual rollback on the pull request recorded on the StatefulSet', async () => {
    const seen: string[] = [];
    const cluster = {
      observe: async (ref: { namespace: string; name: string }) => {
        seen.push(`${ref.namespace}/${ref.name}`);
        return observation(
          Object.fromEntries(Object.entries(recorded).filter(([, v]) => v !== null)) as Record<
            string,
            string
          >,
        );
      },
    };
    const github = await githubReporting({
      settings: rollbackSettings(),
      run: runContext(fake, 'workflow_dispatch', {}),
      log: recordingLog(),
      cluster,
      defaultNamespace: 'shop',
      retry: fastRetry(),
    });
    assert.equal(github.pullRequest, 21);
    assert.deepEqual(seen, ['shop/web']);
    await github.reporter.update(stageReport(0, 'web', { kind: 'rollback' }));
    await github.flush();
    assert.equal(fake.comments[0]?.issue, 21);
    assert.match(fake.comments[0]?.body ?? '', /rollback in progress/);
  });

  it('goes on without a pull request when the StatefulSet cannot be read', async () => {
    const log = recordingLog();
    const github = await githubReporting({
      settings: rollbackSettings(),
      run: runContext(fake, 'workflow_dispatch', {}),
      log,
      cluster: { observe: () => Promise.reject(new Error('connection refused')) },
      defaultNamespace: 'shop',
      retry: fastRetry(),
    });
    assert.equal(github.pullRequest, undefined);
    assert.equal(log.notices.length, 1);
  });
});
