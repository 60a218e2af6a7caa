// A comment command acts only on what its pull request rolled out (issue 26 item 2): the rule,
// as a table over the recorded state, the live updateRevision and the command's owner.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notOwnedProblem } from '../../src/engine/command-owner.ts';
import type { RecordedState } from '../../src/engine/state.ts';

const owner = { pullRequest: 21, context: 'prod' };
const rolledOut: RecordedState = {
  kind: 'rollout',
  phase: 'paused',
  stage: 1,
  targetRevision: 'db-v2',
  previousRevision: 'db-v1',
  originalPartition: 0,
  runUrl: undefined,
  commit: undefined,
  pullRequest: 21,
  context: 'prod',
};

describe('which StatefulSets a pull request comment may act on', () => {
  const cases: ReadonlyArray<readonly [string, RecordedState | undefined, string, RegExp | undefined]> = [
    ['Acts on the paused rollout its pull request recorded, at that revision', rolledOut, 'db-v2', undefined],
    [
      'Acts on a state of an older run that recorded no context',
      { ...rolledOut, context: undefined },
      'db-v2',
      undefined,
    ],
    [
      'Refuses a StatefulSet with no recorded state',
      undefined,
      'db-v1',
      /runs revision db-v1 with no rollout recorded/,
    ],
    [
      'Refuses a newer pull request’s paused rollout, naming it and what is live',
      { ...rolledOut, pullRequest: 22, targetRevision: 'db-v3' },
      'db-v3',
      /runs revision db-v3, rolled out by pull request #22 \(paused\): \/canary acts only on what pull request #21 rolled out/,
    ],
    [
      'Refuses a rollout of no pull request',
      { ...rolledOut, pullRequest: undefined },
      'db-v2',
      /rolled out by a run of no pull request/,
    ],
    [
      'Refuses another kube context',
      { ...rolledOut, context: 'staging' },
      'db-v2',
      /kube context staging, not prod/,
    ],
    [
      'Refuses a second rollback (a duplicate comment, a retried command)',
      { ...rolledOut, kind: 'rollback', phase: 'succeeded', targetRevision: 'db-v1' },
      'db-v1',
      /already rolled back by pull request #21 \(succeeded\) to db-v1/,
    ],
    [
      'Refuses after an abort rolled it back',
      { ...rolledOut, phase: 'rolled-back' },
      'db-v1',
      /already rolled out by pull request #21 \(rolled-back\)/,
    ],
    [
      'Refuses when the template changed since the pull request’s rollout',
      rolledOut,
      'db-v9',
      /runs revision db-v9, not db-v2 that pull request #21 rolled out/,
    ],
  ];
  for (const [name, state, live, expected] of cases) {
    it(name, () => {
      const problem = notOwnedProblem('StatefulSet data/db', state, live, owner);
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? '', expected);
    });
  }
});
