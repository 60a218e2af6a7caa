// Canary analysis (issue 14) on the real control plane: HTTP checks through the real
// kube-apiserver's pod proxy to each simulated pod's app (the kubelet stand-in's pod network),
// and PromQL checks against a real Prometheus scraping the stand-in's per-pod counters. The
// image tag picks the app's behaviour: `errors` answers 500 to half its requests (and /healthz),
// `idle` gets no traffic (no series).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AppsV1Api, type V1StatefulSet } from '@kubernetes/client-node';
import { renderReport } from '../../src/adapters/github/markdown/report.ts';
import type { CheckReport } from '../../src/engine/analysis.ts';
import type { RolloutReport } from '../../src/engine/report.ts';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import {
  clusterPrometheusUrl,
  podHttpBaseUrl,
  podRequestCount,
  startPrometheus,
  waitForSeries,
} from '../support/analysis-env.ts';
import { startFakeGitHub } from '../support/github/fake-server.ts';
import { canaryManifest } from '../support/manifests.ts';
import { toHtml } from '../support/rendered.ts';
import { mergedPull, pushEvent } from '../support/run/bundle.ts';
import { manifestFile, runAction, runEngine } from '../support/run/in-process.ts';
import { runWithGitHub } from '../support/run/with-github.ts';

const fast = { soak: '0s', 'stage-timeout': '60s', steps: '1, 50%, 100%' };

/**
 * The app's success rate over the stage's new pods: 1 when healthy, 0.5 with `errors`, no data
 * when `idle` (the revision label keeps out the series of the old pod of the same name).
 */
const successRate = (address: string, extra = '') => `
- name: success-rate
  prometheus:
    address: ${address}
    query: >-
      sum(rate(app_requests_total{namespace="{{namespace}}",pod=~"{{pods}}",revision="{{revision}}",code="200"}[5s]))
      / sum(rate(app_requests_total{namespace="{{namespace}}",pod=~"{{pods}}",revision="{{revision}}"}[5s]))
    min: 0.95
${extra}`;

const healthz = `
- name: healthz
  http: { port: http, path: /healthz, json-path: $.status, equals: ok }
  interval: 500ms
  count: 2
`;

function db(image: string): V1StatefulSet {
  const sts = canaryManifest({ image, replicas: 5, terminationGracePeriodSeconds: 0 });
  const container = sts.spec?.template.spec?.containers[0];
  assert.ok(container);
  container.ports = [{ name: 'http', containerPort: 8080 }];
  return sts;
}

const checksOf = (report: RolloutReport | undefined, stage: number): readonly CheckReport[] =>
  report?.stages.find((s) => s.stage === stage)?.analysis ?? [];

describe('canary analysis on the real cluster and a real Prometheus', () => {
  let ns: TestNamespace;
  beforeEach(async () => {
    ns = await freshNamespace('analysis');
  });
  afterEach(() => ns.cleanup());

  const rollout = (image: string, analysis: string, extra: Record<string, string> = {}) =>
    runAction(ns, { manifests: manifestFile([db(image)]), ...fast, analysis, ...extra });
  const created = async () =>
    assert.equal((await rollout('registry.local/db:v1', '')).outcome.result, 'created');
  const revisionOf = async () =>
    (
      await ns.kubeConfig
        .makeApiClient(AppsV1Api)
        .readNamespacedStatefulSet({ name: 'db', namespace: ns.name })
    ).status?.updateRevision;

  it('passes a healthy canary on an HTTP check through the pod proxy and a PromQL check, one proxied request a pod a round', async () => {
    await created();
    const prom = clusterPrometheusUrl();
    const before = new Map<string, number>();
    for (let i = 0; i < 5; i++) before.set(`db-${i}`, await podRequestCount(ns.name, `db-${i}`));
    const run = await rollout(
      'registry.local/db:v2',
      `${healthz}${successRate(prom, '  interval: 2s\n  count: 2')}`,
    );
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    for (let i = 0; i < 5; i++) {
      const served = (await podRequestCount(ns.name, `db-${i}`)) - (before.get(`db-${i}`) ?? 0);
      assert.equal(served, 2, `db-${i} served count (2) requests, once in its stage`);
    }
    const last = run.reports.at(-1);
    for (const stage of [1, 2, 3]) {
      const checks = checksOf(last, stage);
      assert.deepEqual(
        checks.map((c) => [c.name, c.state, c.rounds]),
        [
          ['healthz', 'passed', 2],
          ['success-rate', 'passed', 2],
        ],
        `stage ${stage}`,
      );
    }
    assert.equal(checksOf(last, 1)[0]?.last?.value, '200, $.status = "ok"');
    assert.equal(checksOf(last, 1)[1]?.last?.value, '1');
    assert.equal(run.outcome.stages[0]?.analysis?.[1]?.threshold, '>= 0.95');
    assert.ok(
      run.logs.some((l) =>
        /Analysis healthz, stage 1, round 2\/2: db-4 = 200, \$\.status = "ok" \(status 2xx, \$\.status == "ok"\) pass/.test(
          l,
        ),
      ),
    );
  });

  it('reaches each new pod directly with the url form (a self-hosted runner), {{pod}} and {{namespace}} filled in', async () => {
    await created();
    const analysis = `
- name: direct
  http:
    url: ${podHttpBaseUrl()}/pods/{{namespace}}/{{pod}}/healthz?ordinal={{ordinal}}
    json-path: $.pod
    equals: db-4
  interval: 500ms
  count: 1
  stages: [1]
`;
    const before = await podRequestCount(ns.name, 'db-4');
    const run = await rollout('registry.local/db:v2', analysis);
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    assert.equal((await podRequestCount(ns.name, 'db-4')) - before, 1);
    const [check] = checksOf(run.reports.at(-1), 1);
    assert.equal(check?.state, 'passed');
    assert.equal(check?.last?.value, '200, $.pod = "db-4"');
    assert.deepEqual(checksOf(run.reports.at(-1), 2), [], 'stages: [1] only');
  });

  it('fails a Ready canary that serves errors and rolls it back, the measured value in the report', async () => {
    await created();
    const good = await revisionOf();
    const run = await rollout(
      'registry.local/db:v2-errors',
      successRate(clusterPrometheusUrl(), '  interval: 2s\n  count: 3'),
    );
    assert.equal(run.outcome.result, 'rolled-back', run.logs.join('\n'));
    assert.match(
      run.outcome.failure ?? '',
      /analysis check success-rate failed: 1 failed measurement, more than failure-limit 0 \(db-4: 0\.[45]\d*\)/,
    );
    assert.equal(await revisionOf(), good);
    const [check] = checksOf(run.reports.at(-1), 1);
    assert.equal(check?.state, 'failed');
    // Half the requests fail; rate() extrapolates, so about 0.5.
    assert.deepEqual(
      check?.failed.map((m) => [m.subject, Math.abs(Number(m.value) - 0.5) < 0.1]),
      [['db-4', true]],
    );
    const comment = renderReport(run.reports.at(-1) as RolloutReport);
    assert.match(
      comment,
      /- `success-rate` \(prometheus\): ❌ failed · \d\/3 rounds · last `db-4: 0\.[45]\d*` · threshold `>= 0\.95` · 1 failed/,
    );
  });

  it('judges a canary with no traffic as on-no-data says: wait fails with "no data", fail fails at once, pass passes', async () => {
    await created();
    const prom = clusterPrometheusUrl();
    const waited = await rollout(
      'registry.local/db:v2-idle',
      successRate(prom, '  interval: 1s\n  count: 2'),
    );
    assert.equal(waited.outcome.result, 'rolled-back', waited.logs.join('\n'));
    assert.match(
      waited.outcome.failure ?? '',
      /analysis check success-rate failed: no data in 2 rounds \(on-no-data: wait\)/,
    );
    const failed = await rollout(
      'registry.local/db:v3-idle',
      successRate(prom, '    on-no-data: fail\n  interval: 1s\n  count: 2'),
    );
    assert.equal(failed.outcome.result, 'rolled-back');
    assert.match(
      failed.outcome.failure ?? '',
      /1 failed measurement, more than failure-limit 0 \(db-4: no data\)/,
    );
    const passed = await rollout(
      'registry.local/db:v4-idle',
      successRate(prom, '    on-no-data: pass\n  interval: 1s\n  count: 2'),
    );
    assert.equal(passed.outcome.result, 'succeeded', passed.logs.join('\n'));
    assert.equal(checksOf(passed.reports.at(-1), 1)[0]?.last?.value, 'no data');
  });

  it('shows the failed analysis in the pull request comment, the failing value against its threshold', async () => {
    await created();
    const fake = await startFakeGitHub();
    try {
      const sha = '0123456789abcdef0123456789abcdef01234567';
      fake.commitPulls.set(sha, [mergedPull(21, sha)]);
      const run = await runWithGitHub(ns, fake, {
        event: 'push',
        payload: pushEvent(sha),
        inputs: {
          manifests: manifestFile([db('registry.local/db:v2-errors')]),
          ...fast,
          analysis: `${healthz}${successRate(clusterPrometheusUrl(), '  interval: 2s\n  count: 3')}`,
        },
      });
      assert.equal(run.outcome.result, 'rolled-back', run.log.lines.join('\n'));
      const comments = fake.comments.filter((c) => c.issue === 21);
      assert.equal(comments.length, 1);
      const body = comments[0]?.body ?? '';
      assert.match(
        body,
        /#### 🔬 Analysis\n\nStage 1:\n\n- `healthz` \(http\): ❌ failed · 1\/2 rounds · last `db-4: 500: \{"status":"degraded"/,
      );
      assert.match(
        body,
        /threshold `status 2xx, \$\.status == "ok"` · 1 failed\n {2}- Why: `1 failed measurement, more than failure-limit 0`/,
      );
      assert.match(body, /- \*\*Reason:\*\* `AnalysisFailed`/);
    } finally {
      await fake.close();
    }
  });

  it('counts Prometheus going down mid-stage as errors, not measurements, and fails past error-limit', async () => {
    await created();
    const prom = await startPrometheus();
    try {
      await waitForSeries(prom.url, `app_requests_total{namespace="${ns.name}"}`);
      let stopping: Promise<void> | undefined;
      const run = await runEngine({
        kubeConfig: ns.kubeConfig,
        namespace: ns.name,
        inputs: {
          manifests: manifestFile([db('registry.local/db:v2')]),
          ...fast,
          'on-failure': 'halt',
          analysis: successRate(prom.url, '    error-limit: 1\n  interval: 1s\n  count: 6'),
        },
        // Prometheus stops once the canary stage has its first measurement.
        onReport: (report) => {
          if (stopping === undefined && (checksOf(report, 1)[0]?.rounds ?? 0) >= 1) stopping = prom.stop();
        },
      });
      await stopping;
      assert.equal(run.outcome.result, 'halted', run.logs.join('\n'));
      assert.match(
        run.outcome.failure ?? '',
        /Prometheus errors: 2 in a row, more than error-limit 1 \(last: Prometheus unreachable at http:\/\/127\.0\.0\.1:\d+: /,
      );
      const [check] = checksOf(run.reports.at(-1), 1);
      assert.ok(
        (check?.rounds ?? 0) >= 1 && check?.errors === 2 && check.failures === 0,
        JSON.stringify(check),
      );
    } finally {
      await prom.stop();
    }
  });

  it('measures a failing dry-run check and reports it, without failing or holding the stage', async () => {
    await created();
    const analysis = `
- name: healthz
  http: { port: 8080, path: /healthz }
  interval: 500ms
  count: 2
  dry-run: true
`;
    const run = await rollout('registry.local/db:v2-errors', analysis, { soak: '2s' });
    assert.equal(run.outcome.result, 'succeeded', run.logs.join('\n'));
    const [check] = checksOf(run.reports.at(-1), 1);
    assert.equal(check?.dryRun, true);
    assert.equal(check?.state, 'failed');
    assert.match(check?.last?.value ?? '', /^500: \{"status":"degraded"/);
    assert.match(
      renderReport(run.reports.at(-1) as RolloutReport),
      /`healthz` \(http\): ⚠️ failed \(dry run: not gating\)/,
    );
  });

  it('keeps a hostile query and hostile response bodies inert in the comment', async () => {
    await created();
    const hostile = '</details><img src=x onerror=alert(1)> @octocat [x](javascript:alert(1))';
    const analysis = `
- name: body
  http: { port: http, path: /hostile }
  interval: 500ms
  count: 1
  dry-run: true
- name: query
  prometheus:
    address: ${clusterPrometheusUrl()}
    query: 'up{job="${hostile}"'
    max: 1
    error-limit: 0
  interval: 1500ms
  count: 1
`;
    const run = await rollout('registry.local/db:v2', analysis, { 'on-failure': 'halt', soak: '3s' });
    assert.equal(run.outcome.result, 'halted', run.logs.join('\n'));
    const checks = checksOf(run.reports.at(-1), 1);
    assert.match(checks[0]?.last?.value ?? '', /^500: <\/details><img src=x onerror/);
    assert.match(checks[1]?.reason ?? '', /bad_data/);
    const html = toHtml(renderReport(run.reports.at(-1) as RolloutReport));
    const section = html.slice(html.indexOf('Analysis'), html.indexOf('<p><sub>'));
    assert.doesNotMatch(section, /<img|<\/?details|<a /, section);
    assert.match(section, /onerror/, 'the hostile text is shown, as text');
  });

  it('refuses a port name the template does not declare before anything changes', async () => {
    await created();
    const before = await revisionOf();
    await assert.rejects(
      rollout('registry.local/db:v2', '- name: healthz\n  http: { port: metrics, path: /healthz }'),
      /check "healthz": http\.port metrics is not a port name of StatefulSet .*its containers name http/,
    );
    assert.equal(await revisionOf(), before);
  });
});
