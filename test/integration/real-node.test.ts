// The local cluster's real nodes (test/cluster/node; issue 22), on a private control plane
// started with two of them beside the stand-in: a real kubelet, containerd and runc run the test
// app image built here. Pods land there only by tolerating the nodes' taint; required pod
// anti-affinity on kubernetes.io/hostname spreads them over both; a real readiness probe makes
// them Ready; logs and exec go API server -> egress -> kubelet -> containerd; and stopping the
// cluster, normally or after every process of it was killed, leaves nothing on the machine.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AppsV1Api,
  CoreV1Api,
  Exec,
  StorageV1Api,
  type V1StatefulSet,
  type V1Status,
} from '@kubernetes/client-node';
import type { FakeGitHub } from '../support/github/fake-server.ts';
import { selectPrivateCluster } from '../support/private-cluster.ts';
import { deleteLocalVolumes, localVolumes, type RealAppOptions, realApp } from '../support/real-node-app.ts';

selectPrivateCluster('real-nodes', { scheduler: true, realNodes: true });
const { ensureClusterUp, stopCluster } = await import('../cluster/lifecycle.ts');
const { freshNamespace, waitFor } = await import('../cluster/harness.ts');
const { clusterDir, readState } = await import('../cluster/control-plane/state.ts');
const { leftovers, nodeProcesses } = await import('../cluster/node/cleanup.ts');
const { realNodeLabel, realNodeTaint } = await import('../cluster/node/node-config.ts');
const { startFakeGitHub } = await import('../support/github/fake-server.ts');
const { githubEnv, inputEnv, mergedPull, pushEvent, runBundle } = await import('../support/run/bundle.ts');
const { manifestFile } = await import('../support/run/in-process.ts');
const { databaseTests } = await import('./real-node-databases.ts');
const { execTests } = await import('./real-node-exec.ts');
const { crashBackOffMessage, pullBackOffMessage } = await import('../cluster/kubelet/kubelet-status.ts');
const { failedMountMessage, readinessFailedMessage } = await import('../cluster/kubelet/kubelet-volumes.ts');

type Namespace = Awaited<ReturnType<typeof freshNamespace>>;

/** Two pods of the test app, one a real node (required anti-affinity), Ready by a real HTTP probe. */
function spreadApp(name: string): V1StatefulSet {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: 2,
      serviceName: name,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 5,
          nodeSelector: { [realNodeLabel.key]: realNodeLabel.value },
          tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: 'NoSchedule' }],
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
              ],
            },
          },
          containers: [
            {
              name: 'app',
              image: 'statefulset-canary.local/app:v1',
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

async function startSpreadApp(ns: Namespace, name: string) {
  const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
  const core = ns.kubeConfig.makeApiClient(CoreV1Api);
  await apps.createNamespacedStatefulSet({ namespace: ns.name, body: spreadApp(name) });
  await waitFor(
    async () =>
      (await apps.readNamespacedStatefulSet({ name, namespace: ns.name })).status?.readyReplicas === 2,
    90_000,
    `StatefulSet ${ns.name}/${name} to have 2 Ready pods on the real nodes`,
    250,
  );
  return (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `app=${name}` })).items;
}

/** Runs `command` in the pod's container through the API server and returns the final Status. */
function exec(ns: Namespace, pod: string, command: string[]): Promise<V1Status> {
  // The API server refuses an exec with no stream at all.
  const output = new PassThrough().resume();
  return new Promise((resolveStatus, reject) => {
    new Exec(ns.kubeConfig)
      .exec(ns.name, pod, 'app', command, output, output, null, false, resolveStatus)
      .catch(reject);
  });
}

describe('real nodes', { timeout: 900_000 }, () => {
  before(() => ensureClusterUp());
  after(() => stopCluster());

  it('runs a pod on each real node, Ready by a real readiness probe, with logs and exec', async () => {
    const ns = await freshNamespace('real-node');
    try {
      const pods = await startSpreadApp(ns, 'spread');
      const nodes = pods.map((p) => p.spec?.nodeName ?? '').sort();
      assert.deepEqual(nodes, ['real-node-1', 'real-node-2']);
      const core = ns.kubeConfig.makeApiClient(CoreV1Api);
      for (const pod of pods) {
        const name = pod.metadata?.name ?? '';
        assert.match(pod.status?.podIP ?? '', /^10\.245\./, `${name} has an IP on its node's bridge`);
        const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
        assert.equal(ready?.status, 'True');
        assert.match(pod.status?.containerStatuses?.[0]?.containerID ?? '', /^containerd:\/\//);
        // The pod proxy reaches the real pod through the cluster's egress.
        const health = await core.connectGetNamespacedPodProxyWithPath({
          name: `${name}:8080`,
          namespace: ns.name,
          path: 'healthz',
        });
        assert.match(JSON.stringify(health), /"status":"ok"/);
        const log = await core.readNamespacedPodLog({ name, namespace: ns.name, container: 'app' });
        assert.ok(log.length > 0, `${name} logged what its container wrote at start`);
        // The runtime's own words: the exec reached runc inside the container.
        const status = await exec(ns, name, ['/no-such-command']);
        assert.equal(status.status, 'Failure');
        assert.match(
          status.message ?? '',
          /OCI runtime exec failed: .*\/no-such-command.*no such file or directory/,
        );
      }
    } finally {
      await ns.cleanup();
    }
  });

  // The stand-in (test/cluster/kubelet) copies these words; here the real kubelet says them.
  it("says in the real kubelet's words what the stand-in copies (FailedMount, BackOff, pull back-off, probe failure)", async () => {
    const ns = await freshNamespace('real-words');
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    const missing = join(clusterDir, 'volumes', ns.name, 'missing');
    const mount = realApp({ name: 'mount', replicas: 1, tag: 'v1' });
    const podSpec = mount.spec!.template.spec!;
    podSpec.volumes = [{ name: 'shared', hostPath: { path: missing, type: 'Directory' } }];
    podSpec.containers[0]!.volumeMounts = [{ name: 'shared', mountPath: '/shared' }];
    const objects = [
      mount,
      realApp({ name: 'crash', replicas: 1, tag: 'v1', env: { CRASH_AT_START: 'boom' } }),
      realApp({ name: 'pull', replicas: 1, tag: 'v9-never-built' }),
      realApp({ name: 'unready', replicas: 1, tag: 'v1', env: { READY: 'false' } }),
    ];
    try {
      for (const body of objects) await apps.createNamespacedStatefulSet({ namespace: ns.name, body });
      const warning = async (pod: string, reason: string, message: (m: string) => boolean) => {
        let found: string | undefined;
        await waitFor(
          async () => {
            const events = await core.listNamespacedEvent({
              namespace: ns.name,
              fieldSelector: `involvedObject.name=${pod},reason=${reason}`,
            });
            found = events.items.map((e) => e.message ?? '').find(message);
            return found !== undefined;
          },
          60_000,
          `a ${reason} event of ${pod}`,
          250,
        );
        return found ?? '';
      };
      const pod = async (name: string) => core.readNamespacedPod({ name, namespace: ns.name });
      assert.equal(
        await warning('mount-0', 'FailedMount', () => true),
        failedMountMessage({ volume: 'shared', path: missing }),
      );
      const crash = await pod('crash-0');
      assert.equal(
        await warning('crash-0', 'BackOff', () => true),
        crashBackOffMessage({ name: 'crash-0', namespace: ns.name, uid: crash.metadata?.uid ?? '' }, 'app'),
      );
      const terminated = (await pod('crash-0')).status?.containerStatuses?.[0]?.lastState?.terminated;
      assert.equal(terminated?.reason, 'Error');
      assert.equal(terminated?.message, undefined, 'no termination message unless the container wrote one');
      assert.equal(
        await warning('unready-0', 'Unhealthy', (m) => m === readinessFailedMessage),
        readinessFailedMessage,
      );
      const image = 'statefulset-canary.local/app:v9-never-built';
      let waiting: { reason?: string; message?: string } | undefined;
      await waitFor(
        async () => {
          waiting = (await pod('pull-0')).status?.containerStatuses?.[0]?.state?.waiting;
          return waiting?.reason === 'ImagePullBackOff';
        },
        60_000,
        'pull-0 to wait in ImagePullBackOff',
        250,
      );
      assert.ok(waiting?.message?.startsWith(pullBackOffMessage(image, '')), waiting?.message);
    } finally {
      await ns.cleanup();
    }
  });

  // The bundled action (dist/index.js), run as a runner runs it, on the real nodes.
  describe('the bundled action on real nodes', () => {
    let fake: FakeGitHub;
    let pull = 100;
    before(async () => {
      fake = await startFakeGitHub();
    });
    after(() => fake.close());

    /** One step of a workflow run on a push of a merged pull request (its own, so its own comment). */
    async function step(ns: Namespace, inputs: Record<string, string>, event = 'push') {
      pull++;
      const sha = (pull.toString(16) + '0'.repeat(40)).slice(0, 40);
      fake.commitPulls.set(sha, [mergedPull(pull, sha)]);
      const payload =
        event === 'push'
          ? pushEvent(sha)
          : { ref: 'refs/heads/main', inputs: {}, repository: { full_name: 'acme/shop' } };
      const run = await runBundle({
        ...inputEnv({ kubeconfig: readFileSync(ns.kubeconfigPath, 'utf8'), ...inputs }, fake.token),
        ...githubEnv(fake.url, event, payload, { GITHUB_SHA: sha }),
      });
      const comment = fake.comments.find((c) => c.issue === pull)?.body ?? '';
      return { ...run, comment, log: run.stdout + run.stderr };
    }

    const rollout = (ns: Namespace, app: RealAppOptions, inputs: Record<string, string> = {}) =>
      step(ns, { manifests: manifestFile([realApp(app)]), soak: '1s', 'stage-timeout': '90s', ...inputs });

    async function podsOf(ns: Namespace, name = 'db') {
      const core = ns.kubeConfig.makeApiClient(CoreV1Api);
      const list = await core.listNamespacedPod({ namespace: ns.name, labelSelector: `app=${name}` });
      return new Map(list.items.map((p) => [p.metadata?.name ?? '', p]));
    }

    /** GET path of each pod of `name`, through the API server's pod proxy, by pod name. */
    async function fromEachPod(ns: Namespace, path: string, name = 'db') {
      const core = ns.kubeConfig.makeApiClient(CoreV1Api);
      const seen = new Map<string, string>();
      for (const pod of (await podsOf(ns, name)).keys()) {
        const body = await core.connectGetNamespacedPodProxyWithPath({
          name: `${pod}:8080`,
          namespace: ns.name,
          path,
        });
        seen.set(pod, typeof body === 'string' ? body.trim() : JSON.stringify(body));
      }
      return seen;
    }

    /** A fresh namespace with `perNode` local PersistentVolumes of its own StorageClass on each real node. */
    async function withLocalVolumes(prefix: string, perNode: number) {
      const ns = await freshNamespace(prefix);
      const core = ns.kubeConfig.makeApiClient(CoreV1Api);
      const storage = ns.kubeConfig.makeApiClient(StorageV1Api);
      const className = `${ns.name}-data`;
      await localVolumes(core, storage, { className, root: join(clusterDir, 'volumes', ns.name), perNode });
      const cleanup = async () => {
        await ns.cleanup();
        await deleteLocalVolumes(core, storage, className);
      };
      return { ns, core, className, cleanup };
    }

    it('rolls a canary out on real readiness and minReadySeconds, checks each new pod over the pod proxy, and every pod keeps its own data through v2 and a rollback', async () => {
      const { ns, className, cleanup } = await withLocalVolumes('real-canary', 2);
      try {
        const app = { tag: 'v1', storageClass: className, minReadySeconds: 3 };
        const created = await rollout(ns, app);
        assert.equal(created.code, 0, created.log);
        assert.equal(created.outputs.get('result'), 'created');
        const written = new Map([...(await podsOf(ns)).keys()].map((pod) => [pod, `${pod} v1`]));
        assert.deepEqual(await fromEachPod(ns, 'marker'), written, 'each pod wrote its marker on its claim');

        // The check must see v2 on each new pod: the pod proxy reaches the real pod's IP.
        const analysis = [
          '- name: version',
          '  http: { port: http, path: /healthz, json-path: $.version, equals: v2 }',
          '  interval: 1s',
          '  count: 2',
        ].join('\n');
        const run = await rollout(ns, { ...app, tag: 'v2' }, { analysis });
        assert.equal(run.code, 0, run.log);
        assert.equal(run.outputs.get('result'), 'succeeded');
        const stages = JSON.parse(run.outputs.get('stages') ?? '[]') as Array<{
          ordinals: number[];
          verdict: string;
          endedAt: string;
        }>;
        assert.deepEqual(stages[0]?.ordinals, [2], 'the highest ordinal is the canary');
        assert.deepEqual(stages.flatMap((s) => s.ordinals).sort(), [0, 1, 2]);
        assert.ok(
          stages.every((s) => s.verdict === 'passed'),
          JSON.stringify(stages),
        );
        assert.match(run.log, /version/);
        // minReadySeconds (3 s) outlasts the soak (1 s): the canary stage passed no sooner than
        // 3 s after the kubelet turned db-2 Ready (its condition's time has whole seconds).
        const canary = (await podsOf(ns)).get('db-2');
        const readyAt = canary?.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
        assert.ok(readyAt, 'db-2 is Ready');
        const waited = Date.parse(stages[0]?.endedAt ?? '') - new Date(readyAt).getTime();
        assert.ok(waited >= 3000 - 1000, `the canary stage passed ${waited} ms after db-2 turned Ready`);
        assert.deepEqual(await fromEachPod(ns, 'marker'), written, 'v2 found each pod its own marker');
        const versions = await fromEachPod(ns, 'healthz');
        assert.ok(
          [...versions.values()].every((v) => v.includes('"version":"v2"')),
          [...versions.values()].join(),
        );

        const back = await step(
          ns,
          { command: 'rollback', statefulset: 'db', soak: '1s' },
          'workflow_dispatch',
        );
        assert.equal(back.code, 0, back.log);
        assert.equal(back.outputs.get('result'), 'rolled-back');
        const restored = await fromEachPod(ns, 'healthz');
        assert.ok(
          [...restored.values()].every((v) => v.includes('"version":"v1"')),
          [...restored.values()].join(),
        );
        assert.deepEqual(
          await fromEachPod(ns, 'marker'),
          written,
          'the rollback found each pod its own marker',
        );
      } finally {
        await cleanup();
      }
    });

    it('fails a crash-looping canary fast, rolls it back deleting the stuck pod, and shows why it crashed', async () => {
      const ns = await freshNamespace('real-crash');
      try {
        assert.equal((await rollout(ns, { tag: 'v1' })).code, 0);
        const before = await podsOf(ns);
        const crash = 'cannot open the write-ahead log /data/wal: permission denied';
        const run = await rollout(ns, { tag: 'v2', env: { CRASH_AT_START: crash } });
        assert.equal(run.code, 1, run.log);
        assert.equal(run.outputs.get('result'), 'rolled-back');
        // Failed fast: on the first restart or the kubelet's CrashLoopBackOff, whichever the
        // watch sees first (both come from the real kubelet within a second), not on the timeout.
        assert.match(
          run.log,
          /stage 1 failed: pod \S+\/db-2, container app: (TooManyRestarts|CrashLoopBackOff)/,
        );
        assert.doesNotMatch(run.log, /StageTimeout/);
        assert.match(run.log, /Deleting db-2: not Ready on a revision other than/);
        // The container's previous log, read from the real kubelet, in the log, summary and comment.
        for (const [where, text] of [
          ['log', run.log],
          ['summary', run.summary],
          ['comment', run.comment],
        ]) {
          assert.ok(text?.includes(`fatal: ${crash}`), `${where} shows the crash log:\n${text}`);
        }
        const after = await podsOf(ns);
        for (const pod of ['db-0', 'db-1'])
          assert.equal(
            after.get(pod)?.metadata?.uid,
            before.get(pod)?.metadata?.uid,
            `${pod} was not restarted`,
          );
        assert.ok(
          [...after.values()].every((p) =>
            p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          ),
        );
      } finally {
        await ns.cleanup();
      }
    });

    it("fails a canary whose image is in no registry with the runtime's ErrImagePull/ImagePullBackOff", async () => {
      const ns = await freshNamespace('real-pull');
      try {
        assert.equal((await rollout(ns, { tag: 'v1', replicas: 2 })).code, 0);
        const run = await rollout(ns, { tag: 'v9-never-built', replicas: 2 });
        assert.equal(run.code, 1, run.log);
        assert.equal(run.outputs.get('result'), 'rolled-back');
        assert.match(run.log, /ErrImagePull|ImagePullBackOff/);
        assert.match(run.summary, /statefulset-canary\.local\/app:v9-never-built/);
      } finally {
        await ns.cleanup();
      }
    });

    it("explains a stage whose readiness probe keeps failing with the kubelet's own event text", async () => {
      const ns = await freshNamespace('real-unready');
      try {
        assert.equal((await rollout(ns, { tag: 'v1', replicas: 2 })).code, 0);
        const run = await rollout(
          ns,
          { tag: 'v2', replicas: 2, env: { READY: 'false' } },
          {
            'stage-timeout': '15s',
            'diagnose-after': '2s',
          },
        );
        assert.equal(run.code, 1, run.log);
        assert.equal(run.outputs.get('result'), 'rolled-back');
        assert.match(run.log, /Readiness probe failed: HTTP probe failed with statuscode: 503/);
        assert.match(run.comment, /Readiness probe failed: HTTP probe failed with statuscode: 503/);
      } finally {
        await ns.cleanup();
      }
    });

    it('waits for a pod that takes 10 s to stop (preStop hook, then a slow SIGTERM) and says it is terminating', async () => {
      const ns = await freshNamespace('real-stop');
      try {
        const slow = {
          replicas: 2,
          terminationGracePeriodSeconds: 20,
          preStop: ['/app', 'sleep', '4s'],
          env: { STOP_DELAY: '6s' },
        };
        assert.equal((await rollout(ns, { ...slow, tag: 'v1' })).code, 0);
        const run = await rollout(ns, { ...slow, tag: 'v2' }, { steps: '1, 100%', 'diagnose-after': '2s' });
        assert.equal(run.code, 0, run.log);
        assert.equal(run.outputs.get('result'), 'succeeded');
        assert.match(run.log, /db-1.*terminating/i);
        const stages = JSON.parse(run.outputs.get('stages') ?? '[]') as Array<{
          startedAt: string;
          endedAt: string;
        }>;
        for (const s of stages) {
          const ms = Date.parse(s.endedAt) - Date.parse(s.startedAt);
          assert.ok(ms >= 10_000, `a stage whose pod takes 10 s to stop took ${ms} ms`);
        }
      } finally {
        await ns.cleanup();
      }
    });

    it("explains a canary whose local PersistentVolume path is gone with the kubelet's FailedMount text", async () => {
      const { ns, core, className, cleanup } = await withLocalVolumes('real-mount', 1);
      try {
        const app = { tag: 'v1', replicas: 2, storageClass: className };
        assert.equal((await rollout(ns, app)).code, 0);
        // The canary's disk goes away under its running pod; the new pod cannot mount it.
        const claim = await core.readNamespacedPersistentVolumeClaim({
          name: 'data-db-1',
          namespace: ns.name,
        });
        const pv = await core.readPersistentVolume({ name: claim.spec?.volumeName ?? '' });
        const path = pv.spec?.local?.path ?? '';
        rmSync(path, { recursive: true, force: true });
        const run = await rollout(
          ns,
          { ...app, tag: 'v2' },
          {
            'stage-timeout': '20s',
            'diagnose-after': '2s',
            'on-failure': 'halt',
          },
        );
        assert.equal(run.code, 1, run.log);
        assert.equal(run.outputs.get('result'), 'halted');
        assert.ok(run.log.includes('FailedMount'), run.log);
        assert.ok(run.log.includes(`path "${path}" does not exist`), run.log);
        assert.ok(
          run.comment.includes(`path &quot;${path}&quot; does not exist`) ||
            run.comment.includes(`path "${path}" does not exist`),
          run.comment,
        );
      } finally {
        await cleanup();
      }
    });

    // The database gates (issue 24): exec, Jobs, before-checks and the primary, on this cluster.
    describe('the database gates on real nodes', () =>
      databaseTests({
        freshNamespace,
        rollout,
        waitFor,
        clusterDir,
        fake: () => fake,
      }));
  });

  // The exec and Jobs adapters (issue 24), on this cluster.
  execTests();

  it('cluster:down leaves no process, mount, cgroup, bridge or network namespace behind', async () => {
    await stopCluster();
    assert.deepEqual(leftovers(clusterDir), []);
    await ensureClusterUp();
  });

  it('a cluster:up after every process of the cluster was killed starts clean', async () => {
    const ns = await freshNamespace('real-node-killed');
    await startSpreadApp(ns, 'killed');
    const containers = nodeProcesses(clusterDir);
    assert.ok(containers.length >= 4, 'the pods run (a pause and an app process each)');
    // As after a crash of the machine's test run: SIGKILL, nothing runs cluster:down.
    for (const p of readState()?.processes ?? []) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    assert.ok(leftovers(clusterDir).length > 0, 'the containers outlive their kubelets and runtimes');
    await ensureClusterUp();
    const survivors = containers.filter((pid) => nodeProcesses(clusterDir).includes(pid));
    assert.deepEqual(survivors, [], 'no process of the killed cluster runs in the new one');
    await stopCluster();
    assert.deepEqual(leftovers(clusterDir), []);
  });
});
