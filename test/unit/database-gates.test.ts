// The database gates' pure parts: exec and Job checks, before-checks, the primary and hooks as
// inputs; where the primary goes before a stage; label selectors; exec answers judged.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAnalysis } from '../../src/config/analysis/input.ts';
import { parseHooks } from '../../src/config/hooks.ts';
import { InputError } from '../../src/config/input-error.ts';
import { parsePrimary } from '../../src/config/primary.ts';
import type { AnalysisCheck, ExecProbe } from '../../src/engine/analysis.ts';
import { judgeBefore } from '../../src/engine/before-check.ts';
import { judgeExec } from '../../src/engine/exec.ts';
import type { PodObservation } from '../../src/engine/observation.ts';
import { planPartitions } from '../../src/engine/plan.ts';
import { plannedSwitchovers, primaryStep, restartedBy, switchoverTarget } from '../../src/engine/primary.ts';
import { matches } from '../../src/engine/selector.ts';

const refuses = (input: string, read: () => unknown, message: RegExp) =>
  assert.throws(
    read,
    (e: unknown) => e instanceof InputError && e.input === input && message.test(e.message),
  );

describe('exec and Job checks as input', () => {
  it('reads an exec check with a JSON condition on its output', () => {
    const [check] = parseAnalysis(
      '- name: lag\n  exec:\n    container: db\n    command: [/app, lag, "{{pod}}"]\n    json-path: $.lagSeconds\n    max: 5\n    timeout: 3s',
      3,
    );
    assert.deepEqual(check?.probe, {
      kind: 'exec',
      container: 'db',
      command: ['/app', 'lag', '{{pod}}'],
      jsonPath: '$.lagSeconds',
      expect: { min: undefined, max: 5, equals: undefined },
      regex: undefined,
      timeoutMs: 3000,
    });
    assert.equal(check?.when, 'after');
  });

  it('reads a Job check from an inline template, as a mapping or as YAML text', () => {
    const job =
      'apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{ name: smoke, image: smoke:1, args: ["{{pods}}"] }]';
    const asText = parseAnalysis(
      `- name: smoke\n  job:\n    template: |\n${job.replace(/^/gm, '      ')}`,
      3,
    );
    const asMapping = parseAnalysis(
      `- name: smoke\n  job:\n    template:\n${job.replace(/^/gm, '      ')}`,
      3,
    );
    assert.equal(asText[0]?.probe.kind, 'job');
    assert.deepEqual(asText[0]?.probe, asMapping[0]?.probe);
    assert.deepEqual(asText[0]?.probe.kind === 'job' && asText[0].probe.timeoutMs, 300_000);
  });

  it('reads a before-check with its selector, timeout and one passing round by default', () => {
    const [check] = parseAnalysis(
      '- name: in-sync\n  when: before\n  pods: role=replica\n  exec: { command: [/app, lag] }\n  timeout: 90s',
      3,
    );
    assert.equal(check?.when, 'before');
    assert.equal(check?.pods, 'role=replica');
    assert.equal(check?.timeoutMs, 90_000);
    assert.equal(check?.count, 1);
    assert.equal(check?.intervalMs, 5000);
  });

  const bad: [string, string, RegExp][] = [
    [
      'pods on a check after a stage',
      '- name: a\n  pods: a=b\n  exec: { command: [x] }',
      /"a": pods is for before-checks/,
    ],
    [
      'failure-limit on a before-check',
      '- name: a\n  when: before\n  failure-limit: 1\n  exec: { command: [x] }',
      /failure-limit does not apply to a before-check/,
    ],
    [
      'an unknown when',
      '- name: a\n  when: during\n  exec: { command: [x] }',
      /when "during" is not before or after/,
    ],
    [
      'a command that is not a list',
      '- name: a\n  exec: { command: "pg_isready -q" }',
      /exec.command must be a list of arguments \(no shell\)/,
    ],
    ['an unknown exec key', '- name: a\n  exec: { command: [x], shell: true }', /unknown key "shell"/],
    [
      'a bad regex',
      '- name: a\n  exec: { command: [x], regex: "(" }',
      /exec.regex "\(" is not a regular expression/,
    ],
    [
      'an unknown placeholder in a command',
      '- name: a\n  exec: { command: [x, "{{primary}}"] }',
      /unknown placeholder \{\{primary\}\}/,
    ],
    [
      'a bad selector',
      '- name: a\n  when: before\n  pods: "role primary"\n  exec: { command: [x] }',
      /not a label selector/,
    ],
    [
      'a template that is not a Job',
      '- name: a\n  job: { template: { apiVersion: v1, kind: Pod } }',
      /must be a batch\/v1 Job/,
    ],
    [
      'a Job pod that restarts Always',
      '- name: a\n  job:\n    template: { apiVersion: batch/v1, kind: Job, spec: { template: { spec: { restartPolicy: Always, containers: [{ name: c, image: i }] } } } }',
      /restartPolicy must be Never or OnFailure/,
    ],
    [
      'two kinds',
      '- name: a\n  exec: { command: [x] }\n  http: { port: 80 }',
      /has http and exec; give it exactly one of/,
    ],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what}, naming the check and the key`, () =>
      refuses('analysis', () => parseAnalysis(text, 3), message));
  }
});

describe('a Job check whose template is a Job of the manifests', () => {
  it('takes the Job out of what is applied and makes it the template; refuses a name none has', async () => {
    const { withJobTemplates } = await import('../../src/runner/job-templates.ts');
    const { readSettings } = await import('../../src/config/inputs.ts');
    const settings = readSettings(
      (name) =>
        ({ manifests: 'x.yaml', analysis: '- name: smoke\n  job: { manifest: smoke-test }' })[name] ?? '',
    );
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'smoke-test', namespace: 'db' },
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 's', image: 'i', args: ['{{pod}}'] }] },
        },
      },
    };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' } };
    const manifests = {
      statefulSets: [],
      others: [
        { object: job, source: 'a.yaml' },
        { object: service, source: 'a.yaml' },
      ],
    };
    const resolved = withJobTemplates(settings, manifests);
    assert.deepEqual(
      resolved.manifests.others.map((o) => o.object.kind),
      ['Service'],
    );
    const probe = resolved.settings.analysis[0]?.probe;
    assert.equal(probe?.kind === 'job' && probe.template.kind, 'Job');
    refuses(
      'analysis',
      () => withJobTemplates(settings, { statefulSets: [], others: [] }),
      /job.manifest names Job smoke-test, which the manifests do not hold/,
    );
    const bad = {
      ...job,
      spec: {
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 's', image: '{{image}}' }] } },
      },
    };
    refuses(
      'analysis',
      () => withJobTemplates(settings, { statefulSets: [], others: [{ object: bad, source: 'a.yaml' }] }),
      /unknown placeholder \{\{image\}\}/,
    );
  });
});

describe('the primary input', () => {
  it('reads a selector and a switchover in the old primary by default', () => {
    const primary = parsePrimary(
      'selector: spilo-role=master\nswitchover:\n  exec: { command: [patronictl, switchover, --candidate, "{{to}}"] }',
    );
    assert.equal(primary?.selector, 'spilo-role=master');
    assert.deepEqual(primary?.switchover, {
      kind: 'exec',
      pod: '{{from}}',
      container: undefined,
      command: ['patronictl', 'switchover', '--candidate', '{{to}}'],
      timeoutMs: 60_000,
    });
    assert.equal(primary?.timeoutMs, 120_000);
    assert.equal(parsePrimary(''), undefined);
  });

  it('refuses no way or two ways to find the primary, and unknown keys', () => {
    refuses(
      'primary',
      () => parsePrimary('switchover: { http: { url: https://x } }'),
      /says no way to find the primary/,
    );
    refuses(
      'primary',
      () => parsePrimary('selector: a=b\nexec: { command: [x] }'),
      /gives two ways to find the primary/,
    );
    refuses('primary', () => parsePrimary('selector: a=b\nleader: x'), /unknown key "leader"/);
    refuses(
      'primary',
      () => parsePrimary('selector: a=b\nswitchover: { exec: { command: [x] }, http: { url: https://x } }'),
      /give exactly one of exec, job or http/,
    );
  });
});

describe('the hooks input', () => {
  it('reads hooks with their events and calls', () => {
    const hooks = parseHooks(
      '- name: hold\n  on: [before-rollout, rollback]\n  http: { url: "https://h.example/{{event}}" }\n  timeout: 5s',
    );
    assert.deepEqual(hooks, [
      {
        name: 'hold',
        on: ['before-rollout', 'rollback'],
        call: { kind: 'http', url: 'https://h.example/{{event}}', headers: {}, timeoutMs: 5000 },
      },
    ]);
  });

  it('refuses an unknown event, no event, an exec with no pod and two hooks of one name', () => {
    refuses(
      'hooks',
      () => parseHooks('- name: a\n  on: [before-merge]\n  http: { url: https://x }'),
      /"before-merge" is not an event; the events are before-rollout/,
    );
    refuses('hooks', () => parseHooks('- name: a\n  http: { url: https://x }'), /on is missing/);
    refuses(
      'hooks',
      () => parseHooks('- name: a\n  on: [after-stage]\n  exec: { command: [x] }'),
      /exec.pod is missing/,
    );
    refuses(
      'hooks',
      () =>
        parseHooks(
          '- name: a\n  on: [rollback]\n  http: { url: https://x }\n- name: a\n  on: [rollback]\n  http: { url: https://y }',
        ),
      /two hooks are named "a"/,
    );
  });
});

const pod = (index: number, revision: string, ready = true): PodObservation => ({
  name: `db-${index}`,
  ordinal: index,
  index,
  uid: `u${index}`,
  revision,
  phase: 'Running',
  ready,
  readySince: 0,
  deleting: false,
  containers: [],
});
const OLD = 'db-old';
const NEW = 'db-new';

describe('the primary restarted last', () => {
  const partitions = planPartitions(
    [
      { kind: 'count', value: 1 },
      { kind: 'percent', value: 50 },
      { kind: 'percent', value: 100 },
    ],
    5,
  );

  it('plans partitions 4, 2, 0 for steps 1, 50%, 100% of 5 (the worked example)', () => {
    assert.deepEqual(partitions, [4, 2, 0]);
  });

  it('Keeps a primary the stage does not restart', () => {
    const pods = [0, 1, 2, 3, 4].map((i) => pod(i, OLD));
    const step = primaryStep({ pods, primary: 'db-2', partition: 4, target: NEW, canSwitch: true, stage: 1 });
    assert.equal(step.kind, 'keep');
  });

  it('Moves a primary at ordinal 2 to the updated canary before stage 2', () => {
    const pods = [0, 1, 2, 3].map((i) => pod(i, OLD)).concat(pod(4, NEW));
    assert.deepEqual(
      restartedBy(pods, 2, NEW).map((p) => p.name),
      ['db-2', 'db-3'],
    );
    const step = primaryStep({ pods, primary: 'db-2', partition: 2, target: NEW, canSwitch: true, stage: 2 });
    assert.deepEqual(step, { kind: 'switchover', from: 'db-2', to: 'db-4' });
  });

  it('Moves a primary at the canary ordinal to the lowest pod when none is updated yet', () => {
    const pods = [0, 1, 2, 3, 4].map((i) => pod(i, OLD));
    assert.deepEqual(
      primaryStep({ pods, primary: 'db-4', partition: 4, target: NEW, canSwitch: true, stage: 1 }),
      {
        kind: 'switchover',
        from: 'db-4',
        to: 'db-0',
      },
    );
  });

  it('Prefers the highest updated pod and never picks a pod that is not Ready', () => {
    const pods = [pod(0, OLD), pod(1, OLD), pod(2, NEW), pod(3, NEW), pod(4, NEW, false)];
    assert.equal(switchoverTarget(pods, 'db-0', 0, NEW)?.name, 'db-3');
  });

  it('Pauses without a switchover, naming the pod to move the role to', () => {
    const pods = [0, 1, 2, 3].map((i) => pod(i, OLD)).concat(pod(4, NEW));
    const step = primaryStep({
      pods,
      primary: 'db-3',
      partition: 2,
      target: NEW,
      canSwitch: false,
      stage: 2,
    });
    assert.equal(step.kind, 'pause');
    assert.match(
      step.kind === 'pause' ? step.reason : '',
      /would restart the primary db-3 and no switchover hook is set: move the role \(for example to db-4\)/,
    );
  });

  it('Pauses when no pod outside the stage can take the role, and keeps a lone pod', () => {
    const pods = [pod(0, OLD), pod(1, OLD, false)];
    assert.equal(
      primaryStep({ pods, primary: 'db-0', partition: 0, target: NEW, canSwitch: true, stage: 1 }).kind,
      'pause',
    );
    assert.equal(
      primaryStep({
        pods: [pod(0, OLD)],
        primary: 'db-0',
        partition: 0,
        target: NEW,
        canSwitch: true,
        stage: 1,
      }).kind,
      'keep',
    );
  });
});

describe('the switchovers in the plan', () => {
  const now = [0, 1, 2, 3, 4].map((i) => pod(i, OLD));
  const partitions = [4, 2, 0];

  it('plans one switchover to an updated pod for a primary at ordinal 2', () => {
    assert.deepEqual(plannedSwitchovers({ pods: now, primary: 'db-2', partitions, canSwitch: true }), [
      'before stage 2: switch over from db-2 to db-4',
    ]);
  });

  it('plans two for a primary at the canary ordinal: to the lowest pod, then to an updated one', () => {
    assert.deepEqual(plannedSwitchovers({ pods: now, primary: 'db-4', partitions, canSwitch: true }), [
      'before stage 1: switch over from db-4 to db-0',
      'before stage 3: switch over from db-0 to db-4',
    ]);
  });

  it('plans the pause without a switchover', () => {
    const [line] = plannedSwitchovers({ pods: now, primary: 'db-3', partitions, canSwitch: false });
    assert.match(line ?? '', /^before stage 2: pause \(stage 2 would restart the primary db-3/);
  });
});

describe('label selectors', () => {
  const labels = { app: 'db', role: 'replica', zone: 'a' };
  const cases: [string, boolean][] = [
    ['role=replica', true],
    ['role==replica', true],
    ['role!=primary', true],
    ['role=primary', false],
    ['app=db,role=replica', true],
    ['zone in (a, b)', true],
    ['zone notin (a)', false],
    ['role', true],
    ['!legacy', true],
    ['!role', false],
    ['app=db,zone in (b,c)', false],
  ];
  for (const [selector, expected] of cases) {
    it(`${selector} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(labels)}`, () => {
      assert.equal(matches(selector, labels), expected);
    });
  }
});

describe('exec answers and before-checks judged', () => {
  const probe = (over: Partial<ExecProbe> = {}): ExecProbe => ({
    kind: 'exec',
    container: undefined,
    command: ['x'],
    jsonPath: undefined,
    expect: undefined,
    regex: undefined,
    timeoutMs: 1000,
    ...over,
  });
  const answer = (exitCode: number | undefined, stdout = '', stderr = '', error?: string) => ({
    exitCode,
    stdout,
    stderr,
    truncated: false,
    error,
  });

  it('passes on exit 0 and fails on another code with what it said on stderr', () => {
    assert.deepEqual(judgeExec(probe(), answer(0, 'accepting connections\n')), {
      value: 'exit 0: accepting connections',
      verdict: 'pass',
    });
    assert.deepEqual(judgeExec(probe(), answer(2, '', 'no response')), {
      value: 'exit 2: no response',
      verdict: 'fail',
    });
    assert.deepEqual(judgeExec(probe(), answer(undefined, '', '', 'OCI runtime exec failed')), {
      value: 'did not run: OCI runtime exec failed',
      verdict: 'fail',
    });
  });

  it('holds the output, or a JSON value in it, to the condition', () => {
    const lag = probe({ jsonPath: '$.lagSeconds', expect: { max: 5 } });
    assert.equal(judgeExec(lag, answer(0, '{"lagSeconds": 3}')).verdict, 'pass');
    assert.deepEqual(judgeExec(lag, answer(0, '{"lagSeconds": 12}')), {
      value: 'exit 0, $.lagSeconds = 12',
      verdict: 'fail',
    });
    assert.equal(judgeExec(lag, answer(0, 'not json')).verdict, 'fail');
    assert.equal(judgeExec(probe({ expect: { equals: 'primary' } }), answer(0, 'primary\n')).verdict, 'pass');
    assert.equal(judgeExec(probe({ regex: '^role:master' }), answer(0, 'role:slave')).verdict, 'fail');
  });

  it('passes a before-check after count passing rounds in a row, and fails it only past its timeout', () => {
    const check = { count: 2, timeoutMs: 10_000 } as AnalysisCheck;
    const t = (passedInARow: number, lastFailure?: string) => ({
      passedInARow,
      fatal: undefined,
      lastFailure,
    });
    assert.equal(judgeBefore(check, t(1), 5000).state, 'running');
    assert.equal(judgeBefore(check, t(2), 5000).state, 'passed');
    assert.equal(judgeBefore(check, t(0, 'db-1: exit 1'), 9999).state, 'running');
    assert.deepEqual(judgeBefore(check, t(0, 'db-1: exit 1'), 10_000), {
      state: 'failed',
      reason: 'not passed within its timeout of 10s (last: db-1: exit 1)',
    });
    assert.equal(
      judgeBefore(check, { passedInARow: 0, fatal: 'forbidden', lastFailure: undefined }, 0).state,
      'failed',
    );
  });
});
