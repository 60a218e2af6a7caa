// The `analysis` input: every check read whole, every problem one error naming the check and
// the key; and the pure judgement of measurements (engine/analysis.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analysisSecrets, parseAnalysis } from '../../src/config/analysis/input.ts';
import { InputError } from '../../src/config/input-error.ts';
import {
  type AnalysisCheck,
  describeCheck,
  EMPTY_TALLY,
  judge,
  keeps,
  roundsOf,
  thresholdText,
} from '../../src/engine/analysis.ts';
import { atJsonPath } from '../../src/engine/json-path.ts';
import { parsePromAnswer } from '../../src/engine/prometheus.ts';
import { fill, podsRegex } from '../../src/engine/templates.ts';

const HTTP = `
- name: healthz
  http: { port: http, path: /healthz }
  interval: 2s
  count: 4
`;

describe('the analysis input', () => {
  it('reads an HTTP check through the pod proxy with its defaults', () => {
    const [check] = parseAnalysis(HTTP, 3);
    assert.deepEqual(check, {
      name: 'healthz',
      intervalMs: 2000,
      count: 4,
      failureLimit: 0,
      dryRun: false,
      stages: undefined,
      when: 'after',
      pods: undefined,
      timeoutMs: undefined,
      probe: {
        kind: 'http',
        method: 'GET',
        port: 'http',
        path: '/healthz',
        url: undefined,
        status: [],
        jsonPath: undefined,
        expect: undefined,
        headers: {},
        timeoutMs: 5000,
      },
    });
  });

  it('reads a Prometheus check; the bearer token becomes a masked Authorization header', () => {
    const [check] = parseAnalysis(
      `
- name: error-rate
  prometheus:
    address: http://prometheus.monitoring:9090/
    query: sum(rate(app_requests_total{pod=~"{{pods}}",code="500"}[30s]))
    max: 0.05
    on-no-data: pass
    bearer-token: s3cret
    error-limit: 1
  interval: 15s
  count: soak
  failure-limit: 1
  dry-run: true
  stages: [2, 1]
`,
      3,
    );
    assert.ok(check);
    assert.equal(check.probe.kind, 'prometheus');
    assert.equal(check.count, 'soak');
    assert.deepEqual(check.stages, [1, 2]);
    assert.equal(check.dryRun, true);
    if (check.probe.kind !== 'prometheus') return;
    assert.equal(check.probe.address, 'http://prometheus.monitoring:9090');
    assert.equal(check.probe.onNoData, 'pass');
    assert.equal(check.probe.errorLimit, 1);
    assert.deepEqual(check.probe.headers, { Authorization: 'Bearer s3cret' });
    assert.deepEqual(analysisSecrets([check]), ['Bearer s3cret']);
    assert.equal(thresholdText(check), '<= 0.05');
  });

  it('is empty when the input is', () => {
    assert.deepEqual(parseAnalysis('  \n', 3), []);
  });

  const bad: [string, string, RegExp][] = [
    ['not YAML', '- name: [', /is not valid YAML/],
    ['not a list', 'name: x', /must be a YAML list of checks/],
    ['no name', '- http: { port: 80 }', /check 1: name is missing/],
    [
      'unknown key',
      '- name: a\n  http: { port: 80 }\n  intreval: 5s',
      /check "a" has an unknown key "intreval"/,
    ],
    [
      'unknown http key',
      '- name: a\n  http: { port: 80, pth: /x }',
      /check "a": http has an unknown key "pth"/,
    ],
    [
      'bad duration',
      '- name: a\n  http: { port: 80 }\n  interval: 5 seconds',
      /check "a": interval: "5 seconds" is not a duration/,
    ],
    [
      'both kinds',
      '- name: a\n  http: { port: 80 }\n  prometheus: { address: http://p }',
      /has http and prometheus; give it exactly one of http, prometheus, exec, job/,
    ],
    [
      'neither kind',
      '- name: a\n  interval: 5s',
      /has no kind; give it exactly one of http, prometheus, exec, job/,
    ],
    ['no port', '- name: a\n  http: { path: /x }', /check "a": http.port is missing/],
    ['bad port', '- name: a\n  http: { port: 70000 }', /http.port "70000" is neither a port number/],
    ['url and port', '- name: a\n  http: { port: 80, url: "http://{{pod}}/x" }', /has url and port\/path/],
    [
      'bad url placeholder',
      '- name: a\n  http: { url: "http://{{host}}/x" }',
      /http.url has an unknown placeholder \{\{host\}\}/,
    ],
    [
      'bad query template',
      '- name: a\n  prometheus: { address: http://p, query: "up{pod=\\"{{pods}\\"}", max: 1 }',
      /prometheus.query has an unclosed/,
    ],
    [
      'unknown query placeholder',
      '- name: a\n  prometheus: { address: http://p, query: "up{job=\\"{{job}}\\"}", max: 1 }',
      /unknown placeholder \{\{job\}\}/,
    ],
    ['no threshold', '- name: a\n  prometheus: { address: http://p, query: up }', /needs min or max/],
    [
      'min above max',
      '- name: a\n  prometheus: { address: http://p, query: up, min: 2, max: 1 }',
      /min 2 is above max 1/,
    ],
    [
      'bad address',
      '- name: a\n  prometheus: { address: "prometheus:9090", query: up, max: 1 }',
      /is not a Prometheus base URL/,
    ],
    [
      'bad on-no-data',
      '- name: a\n  prometheus: { address: http://p, query: up, max: 1, on-no-data: skip }',
      /on-no-data "skip" is not one of wait, fail, pass/,
    ],
    [
      'json-path without condition',
      '- name: a\n  http: { port: 80, json-path: $.ok }',
      /json-path needs a condition/,
    ],
    [
      'bad json-path',
      '- name: a\n  http: { port: 80, json-path: "ok", equals: true }',
      /must start with "\$"/,
    ],
    ['condition without json-path', '- name: a\n  http: { port: 80, equals: ok }', /add json-path/],
    [
      'stage beyond the plan',
      '- name: a\n  http: { port: 80 }\n  stages: [4]',
      /names stage 4, but the steps give at most 3 stages/,
    ],
    ['bad count', '- name: a\n  http: { port: 80 }\n  count: 0', /count "0" is not a number of rounds/],
    [
      'header with a line break',
      '- name: a\n  http: { port: 80, headers: { X-A: "a\\nb" } }',
      /has a line break/,
    ],
    [
      'two checks, one name',
      '- name: a\n  http: { port: 80 }\n- name: a\n  http: { port: 81 }',
      /two checks are named "a"/,
    ],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what}, naming the check and the key`, () => {
      assert.throws(
        () => parseAnalysis(text, 3),
        (error: unknown) =>
          error instanceof InputError && error.input === 'analysis' && message.test(error.message),
      );
    });
  }
});

const check = (over: Partial<AnalysisCheck> = {}): AnalysisCheck => ({
  name: 'q',
  intervalMs: 1000,
  count: 3,
  failureLimit: 1,
  dryRun: false,
  stages: undefined,
  when: 'after',
  pods: undefined,
  timeoutMs: undefined,
  probe: {
    kind: 'prometheus',
    address: 'http://p',
    query: 'up',
    threshold: { max: 0.05 },
    onNoData: 'wait',
    headers: {},
    errorLimit: 2,
    timeoutMs: 1000,
  },
  ...over,
});

describe('judging a check', () => {
  it('runs until its rounds are done, then passes', () => {
    assert.equal(judge(check(), { ...EMPTY_TALLY, rounds: 2, dataSeen: true }, 3).state, 'running');
    assert.equal(
      judge(check(), { ...EMPTY_TALLY, rounds: 3, dataSeen: true, failures: 1 }, 3).state,
      'passed',
    );
  });

  it('fails as soon as the failures pass the failure limit', () => {
    const verdict = judge(check(), { ...EMPTY_TALLY, rounds: 1, dataSeen: true, failures: 2 }, 3);
    assert.deepEqual(verdict, {
      state: 'failed',
      reason: '2 failed measurements, more than failure-limit 1',
    });
  });

  it('fails on consecutive errors past the error limit, naming the last', () => {
    const verdict = judge(
      check(),
      { ...EMPTY_TALLY, consecutiveErrors: 3, errors: 3, lastError: 'refused' },
      3,
    );
    assert.equal(verdict.state, 'failed');
    assert.match(verdict.reason ?? '', /3 in a row, more than error-limit 2 \(last: refused\)/);
  });

  it('fails with "no data" when on-no-data is wait and no round had data', () => {
    assert.deepEqual(judge(check(), { ...EMPTY_TALLY, rounds: 3 }, 3), {
      state: 'failed',
      reason: 'no data in 3 rounds (on-no-data: wait)',
    });
  });

  it('takes as many rounds as the soak holds with count: soak, at least one', () => {
    assert.equal(roundsOf(check({ count: 'soak', intervalMs: 10_000 }), 35_000), 3);
    assert.equal(roundsOf(check({ count: 'soak', intervalMs: 10_000 }), 0), 1);
  });

  it('keeps thresholds: min, max, equals', () => {
    assert.equal(keeps({ max: 0.05 }, 0.05), true);
    assert.equal(keeps({ max: 0.05 }, 0.051), false);
    assert.equal(keeps({ min: 1 }, '2'), true);
    assert.equal(keeps({ min: 1 }, 'NaN'), false);
    assert.equal(keeps({ equals: 'ok' }, 'ok'), true);
    assert.equal(keeps({ equals: true }, false), false);
  });

  it('reads JSON paths, templates and Prometheus answers', () => {
    assert.equal(atJsonPath({ a: { b: [1, { c: 'x' }] } }, '$.a.b[1].c'), 'x');
    assert.equal(atJsonPath({ a: 1 }, '$.b.c'), undefined);
    assert.equal(
      fill('up{pod=~"{{ pods }}",ns="{{namespace}}"}', { pods: podsRegex(['db-3', 'db-4']), namespace: 'n' }),
      'up{pod=~"db-3|db-4",ns="n"}',
    );
    assert.deepEqual(
      parsePromAnswer(
        '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"db-4"},"value":[1,"0.5"]}]}}',
      ),
      [{ labels: { pod: 'db-4' }, value: 0.5 }],
    );
    assert.throws(
      () => parsePromAnswer('{"status":"error","errorType":"bad_data","error":"parse error"}'),
      /bad_data: parse error/,
    );
    assert.throws(
      () => parsePromAnswer('{"status":"success","data":{"resultType":"matrix","result":[]}}'),
      /instant vector/,
    );
  });
});

describe('a check in the plan', () => {
  it('says what it measures, against what, how often and in which stages', () => {
    const [http, prom] = parseAnalysis(
      `${HTTP}- name: rate\n  prometheus: { address: http://p, query: up, max: 1 }\n  count: soak\n  interval: 10s\n  failure-limit: 2\n  stages: [1]\n  dry-run: true`,
      3,
    );
    assert.ok(http && prom);
    assert.equal(
      describeCheck(http, 30_000),
      'healthz: GET port http/healthz through the pod proxy, status 2xx; 4 × 2s, every stage',
    );
    assert.equal(
      describeCheck(prom, 30_000),
      'rate (dry run): Prometheus query, <= 1; 3 × 10s (the soak), failure-limit 2, stage 1',
    );
  });
});
