// The `stages` and `statefulsets` outputs say in action.yml and the README what the code emits:
// every field of a real outcome (the runner on in-memory ports) is named in both, and every
// stage verdict the report model has.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';
import type { Outcome } from '../../src/app.ts';
import type { StageStatus } from '../../src/engine/report.ts';
import { controller, SOAK, stable, startCanary } from '../support/scripted/canary-scenario.ts';
import { FakeClock } from '../support/scripted/fake-clock.ts';

const action = load(readFileSync('action.yml', 'utf8')) as {
  outputs: Record<string, { description: string }>;
};
const readme = readFileSync('README.md', 'utf8');

/** Every stage verdict (the compiler keeps this list complete). */
const verdicts: Record<StageStatus, true> = {
  pending: true,
  progressing: true,
  soaking: true,
  passed: true,
  failed: true,
  cancelled: true,
};

async function succeededRollout(): Promise<Outcome> {
  const clock = new FakeClock();
  const cluster = stable(clock);
  cluster.play(
    controller.newRevision(),
    controller.updates(clock, 4, 4, 5),
    controller.updates(clock, 2, 2, 4),
    controller.updates(clock, 0, 0, 2),
  );
  const { run } = await startCanary(clock, cluster);
  for (let i = 0; i < 3; i++) await clock.advance(SOAK);
  return run.outcome;
}

function readmeRow(output: string): string {
  return readme.split('\n').find((line) => line.startsWith(`| \`${output}\` |`)) ?? '';
}

describe('the outputs as documented', () => {
  it('name every field of each entry of stages and statefulsets, in action.yml and the README', async () => {
    const outcome = await succeededRollout();
    assert.equal(outcome.result, 'succeeded');
    const fields = {
      stages: Object.keys(outcome.stages[0] ?? {}),
      statefulsets: Object.keys(outcome.statefulSets[0] ?? {}),
    };
    assert.ok(fields.stages.length >= 7 && fields.statefulsets.length >= 4, JSON.stringify(fields));
    for (const [output, keys] of Object.entries(fields)) {
      for (const key of keys) {
        assert.ok(action.outputs[output]?.description.includes(`\`${key}\``), `action.yml ${output}: ${key}`);
        assert.ok(readmeRow(output).includes(`\`${key}\``), `README ${output}: ${key}`);
      }
    }
  });

  it('name every stage verdict', () => {
    for (const verdict of Object.keys(verdicts)) {
      assert.ok(action.outputs.stages?.description.includes(`\`${verdict}\``), `action.yml: ${verdict}`);
      assert.ok(readmeRow('stages').includes(`\`${verdict}\``), `README: ${verdict}`);
    }
  });
});
