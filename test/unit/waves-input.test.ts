import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClusters } from '../../src/config/clusters.ts';
import { InputError } from '../../src/config/input-error.ts';
import { readSettings } from '../../src/config/inputs.ts';
import { parseWaves } from '../../src/config/waves.ts';

function refused(run: () => unknown, input: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    assert.equal(error.input, input);
    assert.match(error.message, message);
    return true;
  });
}

const settings = (values: Record<string, string>) =>
  readSettings((name) => ({ manifests: 'k8s/*.yaml', ...values })[name] ?? '');

describe('the waves input', () => {
  it('Reads mappings (name, statefulsets, selector) and bare lists, in order', () => {
    const waves = parseWaves(
      '- name: coordination\n  statefulsets: [zookeeper]\n- ["kafka-*", team/db-?]\n- selector: tier=cache\n- cache-warmer',
    );
    assert.deepEqual(waves, [
      { name: 'coordination', statefulSets: ['zookeeper'], selector: undefined },
      { name: undefined, statefulSets: ['kafka-*', 'team/db-?'], selector: undefined },
      { name: undefined, statefulSets: [], selector: 'tier=cache' },
      { name: undefined, statefulSets: ['cache-warmer'], selector: undefined },
    ]);
  });
  it('Empty: no waves', () => assert.deepEqual(parseWaves('  '), []));
  const bad: [string, string, RegExp][] = [
    ['not YAML', '- [a', /is not valid YAML/],
    ['not a list', 'name: a', /must be a YAML list of waves/],
    ['an empty list', '[]', /must be a YAML list of waves/],
    [
      'an unknown key',
      '- statefulset: [a]',
      /wave 1 has an unknown key "statefulset"; the keys are name, statefulsets, selector/,
    ],
    ['a wave naming nothing', '- name: empty', /wave 1 names no StatefulSet; give statefulsets/],
    ['a name that is no StatefulSet name', '- [Kafka_0]', /"Kafka_0" is not a StatefulSet name or glob/],
    ['a bad selector', '- selector: "a b"', /wave 1: selector "a b" is not a label selector/],
    [
      'two waves of one name',
      '- {name: x, statefulsets: [a]}\n- {name: x, statefulsets: [b]}',
      /two waves are named "x"/,
    ],
  ];
  for (const [what, text, message] of bad)
    it(`Refuses ${what}, naming the input`, () => refused(() => parseWaves(text), 'waves', message));
});

describe('the clusters input', () => {
  it('Reads contexts, lists and named mappings as waves, in order', () => {
    assert.deepEqual(parseClusters('- staging\n- [eu-1]\n- name: us\n  contexts: [us-1, us-2]'), [
      { name: undefined, contexts: ['staging'] },
      { name: undefined, contexts: ['eu-1'] },
      { name: 'us', contexts: ['us-1', 'us-2'] },
    ]);
  });
  it('Refuses a context in two waves', () =>
    refused(() => parseClusters('- a\n- [b, a]'), 'clusters', /context "a" is in two cluster waves/));
  it('Refuses a wave without contexts', () =>
    refused(() => parseClusters('- name: x'), 'clusters', /cluster wave 1: contexts lists no context/));
  it('Refuses clusters together with context', () =>
    refused(() => settings({ clusters: '- a', context: 'b' }), 'clusters', /leave context empty/));
  it('Refuses clusters for a command that acts on one StatefulSet', () =>
    refused(
      () => settings({ clusters: '- a', command: 'status', statefulset: 'db' }),
      'clusters',
      /applies to commands rollout and plan/,
    ));
});

describe('max-parallel, cluster-soak and on-failure-others', () => {
  it('Defaults: 4 at once, no soak between cluster waves, keep', () => {
    const s = settings({});
    assert.equal(s.maxParallel, 4);
    assert.equal(s.clusterSoakMs, 0);
    assert.equal(s.onFailureOthers, 'keep');
    assert.deepEqual([s.waves, s.clusters], [[], []]);
  });
  it('Reads the values given', () => {
    const s = settings({ 'max-parallel': '10', 'cluster-soak': '5m', 'on-failure-others': 'rollback-wave' });
    assert.deepEqual([s.maxParallel, s.clusterSoakMs, s.onFailureOthers], [10, 300_000, 'rollback-wave']);
  });
  it('Refuses max-parallel 0, saying what 1 means', () =>
    refused(
      () => settings({ 'max-parallel': '0' }),
      'max-parallel',
      /"0" is not a whole number from 1 to 1000.*1: one StatefulSet at a time/,
    ));
  it('Refuses an on-failure-others it does not know, listing the three', () =>
    refused(
      () => settings({ 'on-failure-others': 'finish' }),
      'on-failure-others',
      /"finish" is not one of keep, rollback-wave, rollback/,
    ));
});
