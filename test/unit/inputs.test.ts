import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';
import { InputError } from '../../src/config/input-error.ts';
import { readSettings } from '../../src/config/inputs.ts';
import { parseSteps } from '../../src/config/stages.ts';

/** An input getter like core.getInput: unset inputs read as ''. */
function inputs(values: Record<string, string>): (name: string) => string {
  return (name) => values[name] ?? '';
}

const rollout = { manifests: 'k8s/*.yaml' };

function rejects(values: Record<string, string>, input: string, message: RegExp): void {
  assert.throws(
    () => readSettings(inputs(values)),
    (error: unknown) => {
      assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
      assert.equal(error.input, input);
      assert.match(error.message, new RegExp(`^Input ${input}: `));
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('readSettings defaults', () => {
  const settings = readSettings(inputs(rollout));

  it('Rolls out with the default steps 1, 50%, 100%', () => {
    assert.equal(settings.command, 'rollout');
    assert.deepEqual(settings.steps, [
      { kind: 'count', value: 1 },
      { kind: 'percent', value: 50 },
      { kind: 'percent', value: 100 },
    ]);
    assert.deepEqual(settings.rollbackSteps, [{ kind: 'percent', value: 100 }]);
  });

  it('Uses 30s soak, 10m stage timeout, 0 restarts, rollback on failure and 0s lock timeout', () => {
    assert.equal(settings.soakMs, 30_000);
    assert.equal(settings.stageTimeoutMs, 600_000);
    assert.equal(settings.maxRestarts, 0);
    assert.equal(settings.onFailure, 'rollback');
    assert.equal(settings.lockTimeoutMs, 0);
    assert.equal(settings.fieldManager, 'statefulset-canary');
  });

  it('Leaves optional inputs undefined and comments on', () => {
    assert.equal(settings.namespace, undefined);
    assert.equal(settings.kubeconfig, undefined);
    assert.equal(settings.context, undefined);
    assert.equal(settings.statefulset, undefined);
    assert.equal(settings.toRevision, undefined);
    assert.deepEqual(settings.github, {
      token: '',
      comment: true,
      pullRequest: undefined,
      deploymentEnvironment: undefined,
    });
  });

  it('Is frozen all the way down', () => {
    assert.ok(Object.isFrozen(settings));
    assert.ok(Object.isFrozen(settings.github));
    assert.ok(Object.isFrozen(settings.steps));
    assert.ok(Object.isFrozen(settings.manifests));
  });
});

describe('readSettings good values', () => {
  it('Reads every input when set', () => {
    const settings = readSettings(
      inputs({
        command: 'rollout',
        manifests: '# the app\nk8s/app.yaml\n\n  k8s/db/*.yml  # the database\n',
        namespace: 'prod-eu',
        kubeconfig: 'apiVersion: v1\nkind: Config\n',
        context: 'kind-ci',
        steps: '1\n25%\n 50%, 100%',
        'rollback-steps': '50%, 100%',
        soak: '1m',
        'stage-timeout': '15m',
        'max-restarts': '2',
        'on-failure': 'halt',
        'field-manager': 'ci deploy',
        'lock-timeout': '2m',
        'github-token': 'ghs_x',
        comment: 'False',
        'pull-request': '42',
        'deployment-environment': 'production',
      }),
    );
    assert.deepEqual(settings.manifests, ['k8s/app.yaml', 'k8s/db/*.yml']);
    assert.equal(settings.namespace, 'prod-eu');
    assert.equal(settings.context, 'kind-ci');
    assert.equal(settings.steps.length, 4);
    assert.deepEqual(settings.rollbackSteps, [
      { kind: 'percent', value: 50 },
      { kind: 'percent', value: 100 },
    ]);
    assert.equal(settings.soakMs, 60_000);
    assert.equal(settings.stageTimeoutMs, 900_000);
    assert.equal(settings.maxRestarts, 2);
    assert.equal(settings.onFailure, 'halt');
    assert.equal(settings.fieldManager, 'ci deploy');
    assert.equal(settings.lockTimeoutMs, 120_000);
    assert.deepEqual(settings.github, {
      token: 'ghs_x',
      comment: false,
      pullRequest: 42,
      deploymentEnvironment: 'production',
    });
  });

  it('Reads a manual rollback to a given revision without manifests', () => {
    const settings = readSettings(inputs({ command: 'rollback', statefulset: 'web', 'to-revision': '3' }));
    assert.equal(settings.command, 'rollback');
    assert.equal(settings.statefulset, 'web');
    assert.equal(settings.toRevision, 3);
    assert.deepEqual(settings.manifests, []);
  });

  it('Reads status with only a StatefulSet name', () => {
    assert.equal(readSettings(inputs({ command: 'status', statefulset: 'db.v2' })).statefulset, 'db.v2');
  });

  for (const word of ['true', 'True', 'TRUE']) {
    it(`Reads comment "${word}" as true`, () => {
      assert.equal(readSettings(inputs({ ...rollout, comment: word })).github.comment, true);
    });
  }
  for (const word of ['false', 'False', 'FALSE']) {
    it(`Reads comment "${word}" as false`, () => {
      assert.equal(readSettings(inputs({ ...rollout, comment: word })).github.comment, false);
    });
  }

  it('Accepts a kubeconfig written as one line of JSON', () => {
    const settings = readSettings(inputs({ ...rollout, kubeconfig: '{"apiVersion":"v1","kind":"Config"}' }));
    assert.equal(settings.kubeconfig, '{"apiVersion":"v1","kind":"Config"}');
  });

  it('Accepts a soak of 0 for quick environments', () => {
    assert.equal(readSettings(inputs({ ...rollout, soak: '0' })).soakMs, 0);
  });
});

describe('readSettings bad values', () => {
  const cases: { name: string; values: Record<string, string>; input: string; message: RegExp }[] = [
    {
      name: 'An unknown command',
      values: { command: 'deploy' },
      input: 'command',
      message: /"deploy" is not one of rollout, rollback, status, plan/,
    },
    {
      name: 'A rollout without manifests',
      values: {},
      input: 'manifests',
      message: /required for command rollout/,
    },
    {
      name: 'A plan without manifests',
      values: { command: 'plan', manifests: '# nothing\n' },
      input: 'manifests',
      message: /required for command plan/,
    },
    {
      name: 'A rollback without a StatefulSet',
      values: { command: 'rollback' },
      input: 'statefulset',
      message: /required for command rollback/,
    },
    {
      name: 'A status without a StatefulSet',
      values: { command: 'status' },
      input: 'statefulset',
      message: /required for command status/,
    },
    {
      name: 'A StatefulSet name with capitals',
      values: { command: 'status', statefulset: 'Web' },
      input: 'statefulset',
      message: /"Web" must be lowercase/,
    },
    {
      name: 'A StatefulSet name over 253 characters',
      values: { command: 'status', statefulset: 'a'.repeat(254) },
      input: 'statefulset',
      message: /limit is 253/,
    },
    {
      name: 'to-revision that is not a number',
      values: { command: 'rollback', statefulset: 'web', 'to-revision': 'previous' },
      input: 'to-revision',
      message: /"previous" is not a whole number 1 or more/,
    },
    {
      name: 'to-revision 0',
      values: { command: 'rollback', statefulset: 'web', 'to-revision': '0' },
      input: 'to-revision',
      message: /"0" is not a whole number 1 or more/,
    },
    {
      name: 'to-revision on a rollout',
      values: { ...rollout, 'to-revision': '2' },
      input: 'to-revision',
      message: /applies only to command rollback/,
    },
    {
      name: 'A namespace with an underscore',
      values: { ...rollout, namespace: 'my_ns' },
      input: 'namespace',
      message: /"my_ns" must be lowercase/,
    },
    {
      name: 'A namespace over 63 characters',
      values: { ...rollout, namespace: 'n'.repeat(64) },
      input: 'namespace',
      message: /limit is 63/,
    },
    {
      name: 'A kubeconfig path instead of content',
      values: { ...rollout, kubeconfig: '/home/runner/.kube/config' },
      input: 'kubeconfig',
      message: /looks like a path or base64/,
    },
    {
      name: 'A soak that does not parse',
      values: { ...rollout, soak: 'half a minute' },
      input: 'soak',
      message: /"half a minute" is not a duration/,
    },
    {
      name: 'A negative soak',
      values: { ...rollout, soak: '-30s' },
      input: 'soak',
      message: /"-30s" is negative/,
    },
    {
      name: 'A stage timeout of zero',
      values: { ...rollout, 'stage-timeout': '0s' },
      input: 'stage-timeout',
      message: /"0s" is zero/,
    },
    {
      name: 'A stage timeout without a unit',
      values: { ...rollout, 'stage-timeout': '600' },
      input: 'stage-timeout',
      message: /"600" is not a duration.*10m/,
    },
    {
      name: 'A lock timeout far too long',
      values: { ...rollout, 'lock-timeout': '9999h' },
      input: 'lock-timeout',
      message: /"9999h" is too long/,
    },
    {
      name: 'max-restarts negative',
      values: { ...rollout, 'max-restarts': '-1' },
      input: 'max-restarts',
      message: /"-1" is not a whole number 0 or more/,
    },
    {
      name: 'max-restarts fractional',
      values: { ...rollout, 'max-restarts': '1.5' },
      input: 'max-restarts',
      message: /"1.5"/,
    },
    {
      name: 'max-restarts huge',
      values: { ...rollout, 'max-restarts': '99999999999' },
      input: 'max-restarts',
      message: /"99999999999"/,
    },
    {
      name: 'An unknown on-failure',
      values: { ...rollout, 'on-failure': 'retry' },
      input: 'on-failure',
      message: /"retry" is not one of rollback, halt/,
    },
    {
      name: 'An empty-looking field manager of spaces and tabs',
      values: { ...rollout, 'field-manager': 'ci\tdeploy' },
      input: 'field-manager',
      message: /not printable/,
    },
    {
      name: 'A field manager over 128 characters',
      values: { ...rollout, 'field-manager': 'm'.repeat(129) },
      input: 'field-manager',
      message: /129 characters long; the limit is 128/,
    },
    {
      name: 'A comment flag that is YAML 1.1 only',
      values: { ...rollout, comment: 'yes' },
      input: 'comment',
      message: /"yes" is not a boolean; write true or false/,
    },
    {
      name: 'A pull request that is not a number',
      values: { ...rollout, 'pull-request': '#12' },
      input: 'pull-request',
      message: /"#12"/,
    },
    {
      name: 'Bad steps',
      values: { ...rollout, steps: '1, 0' },
      input: 'steps',
      message: /step 2 \("0"\) updates no pod/,
    },
    {
      name: 'Bad rollback steps',
      values: { ...rollout, 'rollback-steps': '150%' },
      input: 'rollback-steps',
      message: /over 100%/,
    },
  ];
  for (const c of cases) {
    it(`Rejects ${c.name.charAt(0).toLowerCase()}${c.name.slice(1)}`, () =>
      rejects(c.values, c.input, c.message));
  }

  it('Never echoes a kubeconfig value in its error', () => {
    const secret = 'c2VjcmV0LXRva2VuLXZhbHVl';
    assert.throws(
      () => readSettings(inputs({ ...rollout, kubeconfig: secret })),
      (error: unknown) => error instanceof InputError && !error.message.includes(secret),
    );
  });
});

describe('parseSteps', () => {
  it('Splits on commas and newlines and ignores blank entries', () => {
    assert.deepEqual(parseSteps('1,\n\n 3 , 50%,\n100%\n'), [
      { kind: 'count', value: 1 },
      { kind: 'count', value: 3 },
      { kind: 'percent', value: 50 },
      { kind: 'percent', value: 100 },
    ]);
  });

  it('Allows a count after a percentage, since only replicas can order them', () => {
    assert.deepEqual(parseSteps('10%, 20'), [
      { kind: 'percent', value: 10 },
      { kind: 'count', value: 20 },
    ]);
  });

  it('Names the input it was given in its errors', () => {
    assert.throws(() => parseSteps('x', '--steps'), /^InputError: Input --steps: /);
  });
});

describe('action.yml', () => {
  const action = load(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
    inputs: Record<string, { description: string; default: string }>;
  };

  it('Declares exactly the inputs readSettings reads', () => {
    const read = new Set<string>();
    readSettings((name) => {
      read.add(name);
      return name === 'manifests' ? 'k8s/*.yaml' : '';
    });
    assert.deepEqual(Object.keys(action.inputs).sort(), [...read].sort());
  });

  it('Has defaults that give the same settings as unset inputs', () => {
    const defaults = (name: string) =>
      name === 'manifests'
        ? 'k8s/*.yaml'
        : name === 'github-token'
          ? ''
          : (action.inputs[name]?.default ?? '');
    assert.deepEqual(readSettings(defaults), readSettings(inputs(rollout)));
  });
});

describe('reason', () => {
  const rollback = { command: 'rollback', statefulset: 'db' };
  it('Is recorded as given', () => {
    assert.equal(
      readSettings(inputs({ ...rollback, reason: 'p99 latency doubled' })).reason,
      'p99 latency doubled',
    );
  });
  it('Is undefined when empty', () => {
    assert.equal(readSettings(inputs(rollback)).reason, undefined);
  });
  it('Refuses a line break', () => rejects({ ...rollback, reason: 'a\nb' }, 'reason', /one line/));
  it('Refuses more than 200 characters', () =>
    rejects({ ...rollback, reason: 'x'.repeat(201) }, 'reason', /200/));
});
