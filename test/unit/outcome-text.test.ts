import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeText } from '../../src/runner/commands/status.ts';

describe('the end of a CLI run', () => {
  it('gives the result, the revisions and a row per stage with its duration', () => {
    const text = outcomeText({
      result: 'succeeded',
      revision: 'web-b',
      previousRevision: 'web-a',
      durationSeconds: 22.2,
      stages: [
        {
          statefulSet: 'demo/web',
          stage: 1,
          partition: 4,
          ordinals: [4],
          verdict: 'passed',
          startedAt: '2026-11-25T23:04:10.725Z',
          endedAt: '2026-11-25T23:04:17.077Z',
        },
        {
          statefulSet: 'demo/web',
          stage: 2,
          partition: 2,
          ordinals: [3, 2],
          verdict: 'failed',
          startedAt: '2026-11-25T23:04:17.104Z',
          endedAt: undefined,
        },
      ],
    });
    assert.equal(
      text,
      [
        'result: succeeded, revision web-b (was web-a), 22.2 s',
        'STATEFULSET  STAGE  PARTITION  ORDINALS  VERDICT  DURATION',
        'demo/web     1      4          4         passed   6.4 s',
        'demo/web     2      2          3,2       failed   -',
      ].join('\n'),
    );
  });

  it('is one line when nothing was staged', () => {
    const text = outcomeText({
      result: 'no-change',
      revision: 'web-a',
      previousRevision: 'web-a',
      durationSeconds: 0.4,
      stages: [],
    });
    assert.equal(text, 'result: no-change, revision web-a, 0.4 s');
  });
});
