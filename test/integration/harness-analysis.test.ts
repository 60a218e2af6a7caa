// Proves the local cluster's pod network and Prometheus (test/cluster/kubelet/kubelet-network.ts,
// prometheus.ts), which canary analysis tests rest on: the real API server's pod proxy reaches
// each pod's simulated app (behaviour by image tag), refuses undeclared ports and pods that do
// not run, every request is counted, and Prometheus scrapes the apps' app_requests_total.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { httpGet, readCa, readState } from '../cluster/control-plane/state.ts';
import { freshNamespace, statefulSet, type TestNamespace, waitFor } from '../cluster/harness.ts';
import {
  clusterPrometheusUrl,
  podHttpBaseUrl,
  podRequestCount,
  startPrometheus,
  waitForSeries,
} from '../support/analysis-env.ts';

const http = [{ name: 'http', containerPort: 8080 }];

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(prometheus: string, promql: string): Promise<Vector[]> {
  const res = await httpGet(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`);
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as { data: { result: Vector[] } }).data.result;
}

describe('the pod network and Prometheus of the local cluster', () => {
  let ns: TestNamespace;
  /** GET through the real API server's pods/proxy subresource, as an admin. */
  const proxyGet = (podAndPort: string, path: string) => {
    const state = readState();
    assert.ok(state, 'the cluster state is readable');
    return httpGet(`${state.apiServerUrl}/api/v1/namespaces/${ns.name}/pods/${podAndPort}/proxy${path}`, {
      ca: readCa(),
      token: state.adminToken,
      timeoutMs: 10_000,
    });
  };

  before(async () => {
    ns = await freshNamespace('harness-analysis');
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    const sets = [
      statefulSet({ name: 'web', replicas: 2, image: 'registry.local/app:v1', ports: http }),
      statefulSet({ name: 'bad', replicas: 1, image: 'registry.local/app:v2-errors', ports: http }),
      statefulSet({ name: 'quiet', replicas: 1, image: 'registry.local/app:v3-idle', ports: http }),
    ];
    for (const body of sets) {
      body.spec!.podManagementPolicy = 'Parallel';
      await apps.createNamespacedStatefulSet({ namespace: ns.name, body });
    }
    for (const { metadata, spec } of sets) {
      const name = metadata?.name ?? '';
      await waitFor(
        async () =>
          (await apps.readNamespacedStatefulSet({ name, namespace: ns.name })).status?.readyReplicas ===
          spec?.replicas,
        20_000,
        `${name} to be Ready`,
      );
    }
  });
  after(() => ns.cleanup());

  it("proxies pods/NAME:8080/proxy/healthz to the pod's app, answering by image tag", async () => {
    const ok = await proxyGet('web-0:8080', '/healthz');
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(JSON.parse(ok.body), { status: 'ok', pod: 'web-0', version: 'v1', errorRate: 0 });
    const degraded = await proxyGet('bad-0:8080', '/healthz');
    assert.equal(degraded.status, 500, degraded.body);
    assert.deepEqual(JSON.parse(degraded.body), {
      status: 'degraded',
      pod: 'bad-0',
      version: 'v2-errors',
      errorRate: 0.5,
    });
    const idle = await proxyGet('quiet-0:8080', '/healthz');
    assert.equal(idle.status, 200, idle.body);
    assert.equal((JSON.parse(idle.body) as { version: string }).version, 'v3-idle');
    assert.equal((await proxyGet('web-1:8080', '/nowhere')).status, 404);
    assert.match((await proxyGet('web-1:8080', '/hostile')).body, /<img src=x onerror=alert\(1\)>/);
  });

  it('answers an error for a port no container declares, and for a pod that does not run', async () => {
    const undeclared = await proxyGet('web-0:9090', '/healthz');
    assert.equal(undeclared.status, 503, undeclared.body);
    assert.match(undeclared.body, /while dialing 10\.244\.\d+\.\d+:9090, code 503/);
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    const crash = statefulSet({
      name: 'crash',
      replicas: 1,
      image: 'registry.local/app:v1-crashloop',
      ports: http,
    });
    await apps.createNamespacedStatefulSet({ namespace: ns.name, body: crash });
    await waitFor(
      async () =>
        (await core.readNamespacedPod({ name: 'crash-0', namespace: ns.name })).status?.containerStatuses?.[0]
          ?.state?.waiting?.reason === 'CrashLoopBackOff',
      20_000,
      'crash-0 to crash-loop',
    );
    const refused = await proxyGet('crash-0:8080', '/healthz');
    assert.equal(refused.status, 503, refused.body);
    assert.match(refused.body, /code 503/);
    assert.equal(await podRequestCount(ns.name, 'crash-0'), 0);
  });

  it('counts exactly the requests each pod served, through the proxy and directly', async () => {
    const before = await podRequestCount(ns.name, 'web-1');
    for (let i = 0; i < 5; i++) assert.equal((await proxyGet('web-1:8080', '/healthz')).status, 200);
    assert.equal(await podRequestCount(ns.name, 'web-1'), before + 5);
    const direct = await httpGet(`${podHttpBaseUrl()}/pods/${ns.name}/web-1/healthz`);
    assert.equal(direct.status, 200, direct.body);
    assert.equal((JSON.parse(direct.body) as { pod: string }).pod, 'web-1');
    assert.equal(await podRequestCount(ns.name, 'web-1'), before + 6);
    assert.equal((await httpGet(`${podHttpBaseUrl()}/pods/${ns.name}/nope-0/healthz`)).status, 502);
  });

  it("has Prometheus scrape app_requests_total of serving pods, with the pod's revision", async () => {
    const prometheus = clusterPrometheusUrl();
    const selector = `namespace="${ns.name}"`;
    // app_up of the idle pod is scraped together with everything else: once it is there, so are the rest.
    await waitForSeries(prometheus, `app_up{${selector},pod="quiet-0"}`);
    await waitForSeries(prometheus, `app_requests_total{${selector},pod="web-0"}`);
    const series = await query(prometheus, `app_requests_total{${selector}}`);
    const names = series.map((s) => `${s.metric.pod}/${s.metric.code}`).sort();
    assert.deepEqual(names, ['bad-0/200', 'bad-0/500', 'web-0/200', 'web-1/200']);
    const sts = await ns.kubeConfig
      .makeApiClient(AppsV1Api)
      .readNamespacedStatefulSet({ name: 'web', namespace: ns.name });
    const web0 = series.find((s) => s.metric.pod === 'web-0');
    assert.equal(web0?.metric.statefulset, 'web');
    assert.equal(web0?.metric.revision, sts.status?.updateRevision);
    assert.deepEqual(await query(prometheus, `app_requests_total{${selector},pod="quiet-0"}`), []);
  });

  it('starts a private Prometheus that scrapes the same pods and stops by its pid', async () => {
    const prometheus = await startPrometheus({ scrapeIntervalMs: 500 });
    try {
      await waitForSeries(
        prometheus.url,
        `app_requests_total{namespace="${ns.name}",pod="bad-0",code="500"}`,
      );
    } finally {
      await prometheus.stop();
    }
    assert.equal((await httpGet(`${prometheus.url}/-/ready`)).status, 0, 'nothing answers after stop()');
  });
});
