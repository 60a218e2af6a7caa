// The exec and Jobs adapters (src/adapters/kubernetes/exec.ts, jobs.ts; issue 24) on the real
// nodes of real-node.test.ts's private control plane (registered there, so they share it): commands of the test app's small primary/replica database
// (test/cluster/node/app: role, switchover, exit, print) go API server -> egress -> kubelet ->
// containerd -> runc, and Jobs of the app image run to Complete or Failed under the real Job
// controller and kubelet, then are deleted with their pods.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AppsV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import type { KubeObject } from '../../src/ports/cluster.ts';
import { ExecForbidden, type ExecRequest, ExecUnreachable, MAX_EXEC_OUTPUT } from '../../src/ports/exec.ts';
import { JOB_LABEL, JOB_PURPOSE_LABEL, JobRefused, type JobRequest } from '../../src/ports/job.ts';
import { appImage, realApp } from '../support/real-node-app.ts';

const { freshNamespace, serviceAccountCredentials, waitFor } = await import('../cluster/harness.ts');
const { realNodeLabel, realNodeTaint } = await import('../cluster/node/node-config.ts');
const { createCluster } = await import('../../src/adapters/kubernetes/cluster.ts');

type Namespace = Awaited<ReturnType<typeof freshNamespace>>;

const SECRET = 'hunter2-s3cr3t-token';

const adapter = (kubeConfig: KubeConfig) =>
  createCluster({ kubeConfig, fieldManager: 'statefulset-canary-test', secrets: [SECRET] });

/** A Job of the app image on a real node: `/app ...args`, no retries. */
function appJob(args: readonly string[]): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'replaced' },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          nodeSelector: { [realNodeLabel.key]: realNodeLabel.value },
          tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: 'NoSchedule' }],
          containers: [
            {
              name: 'check',
              image: appImage('v1'),
              imagePullPolicy: 'IfNotPresent',
              command: ['/app', ...args],
            },
          ],
        },
      },
    },
  };
}

const labels = { [JOB_LABEL]: 'db', [JOB_PURPOSE_LABEL]: 'before-stage-1' };

function jobRequest(ns: Namespace, args: readonly string[], more: Partial<JobRequest> = {}): JobRequest {
  return {
    namespace: ns.name,
    job: appJob(args),
    labels,
    namePrefix: 'db-before-stage-1',
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    ...more,
  };
}

/** Waits (a bounded loop of reads) until Job `name` and every pod of it are gone. */
async function awaitJobGone(ns: Namespace, name: string): Promise<void> {
  const batch = ns.kubeConfig.makeApiClient(BatchV1Api);
  const core = ns.kubeConfig.makeApiClient(CoreV1Api);
  await waitFor(
    async () => {
      const jobs = await batch.listNamespacedJob({
        namespace: ns.name,
        fieldSelector: `metadata.name=${name}`,
      });
      const pods = await core.listNamespacedPod({
        namespace: ns.name,
        labelSelector: `batch.kubernetes.io/job-name=${name}`,
      });
      return jobs.items.length === 0 && pods.items.length === 0;
    },
    60_000,
    `Job ${ns.name}/${name} and its pods to be deleted`,
    200,
  );
}

const readerRules = [
  { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
];

/**
 * A ServiceAccount that may read pods and Jobs, but neither exec into pods nor create Jobs;
 * allowExec adds those verbs on pods/exec and waits until the authorizer grants them.
 */
async function restrictedAccount(ns: Namespace) {
  const rbac = ns.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  const role = (verbs: readonly string[]) => ({
    metadata: { name: 'reader', namespace: ns.name },
    rules: [
      ...readerRules,
      ...(verbs.length > 0 ? [{ apiGroups: [''], resources: ['pods/exec'], verbs: [...verbs] }] : []),
    ],
  });
  await rbac.createNamespacedRole({ namespace: ns.name, body: role([]) });
  await rbac.createNamespacedRoleBinding({
    namespace: ns.name,
    body: {
      metadata: { name: 'reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns.name }],
    },
  });
  const { kubeConfig } = await serviceAccountCredentials(ns, 'reader');
  const review = kubeConfig.makeApiClient(AuthorizationV1Api);
  return {
    kubeConfig,
    async allowExec(verbs: readonly string[]) {
      await rbac.replaceNamespacedRole({ name: 'reader', namespace: ns.name, body: role(verbs) });
      const attributes = { namespace: ns.name, resource: 'pods', subresource: 'exec', verb: verbs.at(-1) };
      await waitFor(
        async () =>
          (await review.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } }))
            .status?.allowed === true,
        10_000,
        `the authorizer to allow ${verbs.join(', ')} on pods/exec`,
      );
    },
  };
}

/** Registered by real-node.test.ts, on its cluster (started before, stopped after). */
export function execTests(): void {
  describe('exec and Jobs through the adapters', () => {
    let ns: Namespace;
    let roleDir: string;
    before(async () => {
      ns = await freshNamespace('real-exec');
      roleDir = mkdtempSync(join(tmpdir(), 'statefulset-canary-roles-'));
      writeFileSync(join(roleDir, 'primary'), 'db-0\n');
      const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
      const body = realApp({ name: 'db', replicas: 2, tag: 'v1', roleDir });
      body.spec!.podManagementPolicy = 'Parallel';
      await apps.createNamespacedStatefulSet({ namespace: ns.name, body });
      await waitFor(
        async () =>
          (await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name })).status?.readyReplicas ===
          2,
        120_000,
        `StatefulSet ${ns.name}/db to have 2 Ready pods on the real nodes`,
        250,
      );
    });
    after(async () => {
      await ns?.cleanup();
      if (roleDir) rmSync(roleDir, { recursive: true, force: true });
    });

    const run = (pod: string, command: readonly string[], more: Partial<ExecRequest> = {}) =>
      adapter(ns.kubeConfig).exec!({
        namespace: ns.name,
        pod,
        container: 'app',
        command,
        timeoutMs: 20_000,
        signal: new AbortController().signal,
        ...more,
      });

    it('answers each pod its role from the role file, and a switchover moves the primary', async () => {
      const cluster = adapter(ns.kubeConfig);
      const before = cluster.stats().requests;
      const primary = await cluster.exec!({
        namespace: ns.name,
        pod: 'db-0',
        container: 'app',
        command: ['/app', 'role'],
        timeoutMs: 20_000,
        signal: new AbortController().signal,
      });
      assert.deepEqual(primary, {
        exitCode: 0,
        stdout: 'primary\n',
        stderr: '',
        truncated: false,
        error: undefined,
      });
      assert.equal(cluster.stats().requests - before, 1, 'one exec is one request');
      assert.equal((await run('db-1', ['/app', 'role'])).stdout, 'replica\n');
      assert.equal((await run('db-1', ['/app', 'is-primary'])).exitCode, 1);

      const switched = await run('db-0', ['/app', 'switchover', 'db-1']);
      assert.equal(switched.exitCode, 0, switched.stderr);
      assert.equal(switched.stdout, 'switchover from db-0 to db-1\n');
      assert.equal((await run('db-1', ['/app', 'role'])).stdout, 'primary\n');
      assert.equal((await run('db-1', ['/app', 'is-primary'])).exitCode, 0);
      assert.equal((await run('db-0', ['/app', 'role'])).stdout, 'replica\n');

      writeFileSync(join(roleDir, 'lag-db-0'), '7.5\n');
      assert.deepEqual(JSON.parse((await run('db-0', ['/app', 'lag'])).stdout), {
        lagSeconds: 7.5,
        pod: 'db-0',
      });
      assert.deepEqual(JSON.parse((await run('db-1', ['/app', 'lag'])).stdout), {
        lagSeconds: 0,
        pod: 'db-1',
      });
      const empty = await run('db-0', ['/app', 'switchover']);
      assert.equal(empty.exitCode, 1);
      assert.match(empty.stderr, /name the pod/);
    });

    it('gives a non-zero exit code with stderr, and a missing command the runtime error without exit code', async () => {
      const failed = await run('db-0', ['/app', 'exit', '3']);
      assert.equal(failed.exitCode, 3);
      assert.equal(failed.stdout, 'exiting with code 3\n');
      assert.equal(failed.stderr, 'exit 3 on purpose\n');
      assert.equal(failed.error, undefined);

      const missing = await run('db-0', ['/no-such-command']);
      assert.equal(missing.exitCode, undefined);
      assert.match(
        missing.error ?? '',
        /OCI runtime exec failed: .*\/no-such-command.*no such file or directory/,
      );
    });

    it('cuts output at MAX_EXEC_OUTPUT bytes and masks the run secrets in it', async () => {
      writeFileSync(join(roleDir, 'big'), 'x'.repeat(3 * MAX_EXEC_OUTPUT));
      const big = await run('db-0', ['/app', 'print', '/roles/big']);
      assert.equal(big.exitCode, 0);
      assert.equal(big.truncated, true);
      assert.equal(Buffer.byteLength(big.stdout), MAX_EXEC_OUTPUT);

      // The secret is masked wherever it is, also where it crosses the cut, never shown in part.
      const head = `token=${SECRET}\n`;
      const filler = 'y'.repeat(MAX_EXEC_OUTPUT - 5 - head.length);
      writeFileSync(join(roleDir, 'secret'), `${head}${filler}${SECRET}${'z'.repeat(100)}`);
      const secret = await run('db-0', ['/app', 'print', '/roles/secret']);
      assert.equal(secret.stdout, `token=***\n${filler}***`);
      assert.equal(secret.truncated, true);
      assert.equal(secret.stdout.includes(SECRET.slice(0, 4)), false);
      const small = await run('db-0', ['/app', 'print', '/roles/primary']);
      assert.equal(small.truncated, false);
    });

    it('throws ExecUnreachable when the command outlasts its timeout, or the pod does not exist', async () => {
      await assert.rejects(run('db-0', ['/app', 'sleep', '60s'], { timeoutMs: 2_000 }), (error: unknown) => {
        assert.ok(error instanceof ExecUnreachable, String(error));
        assert.match(error.message, /did not finish within 2 s/);
        return true;
      });
      const cancel = new AbortController();
      const cancelled = run('db-0', ['/app', 'sleep', '60s'], { signal: cancel.signal });
      cancel.abort();
      await assert.rejects(cancelled, (error: unknown) => error instanceof ExecUnreachable);
      await assert.rejects(run('db-9', ['/app', 'role']), (error: unknown) => {
        assert.ok(error instanceof ExecUnreachable, String(error));
        assert.match(error.message, /\(404\): pods "db-9" not found/);
        return true;
      });
    });

    it('refuses a ServiceAccount without get and create on pods/exec with ExecForbidden naming the rule', async () => {
      const account = await restrictedAccount(ns);
      const reader = adapter(account.kubeConfig);
      const roleExec = () =>
        reader.exec!({
          namespace: ns.name,
          pod: 'db-0',
          container: 'app',
          command: ['/app', 'role'],
          timeoutMs: 20_000,
          signal: new AbortController().signal,
        });
      const forbidden = (says: RegExp) => (error: unknown) => {
        assert.ok(error instanceof ExecForbidden, String(error));
        assert.match(error.message, says);
        assert.match(
          error.message,
          new RegExp(
            `needs get and create on pods/exec in namespace ${ns.name} .*: add the opt-in exec rule from examples/rbac.yaml`,
          ),
        );
        return true;
      };
      // The WebSocket upgrade is a GET: RBAC asks for get first...
      await assert.rejects(
        roleExec(),
        forbidden(/\(403\): pods "db-0" is forbidden: .*cannot get resource "pods\/exec"/),
      );
      // ...and then the API server (1.35+) for create as well.
      await account.allowExec(['get']);
      // (whose refusal gives no reason: `pods "db-0" is forbidden: `).
      await assert.rejects(roleExec(), forbidden(/\(403\): pods "db-0" is forbidden\. It needs/));
      await account.allowExec(['get', 'create']);
      assert.equal((await roleExec()).exitCode, 0);
      await assert.rejects(reader.runJob!(jobRequest(ns, ['exit', '0'])), (error: unknown) => {
        assert.ok(error instanceof JobRefused, String(error));
        assert.match(error.message, /\(403\): .*cannot create resource "jobs" in API group "batch"/);
        assert.match(error.message, /create, list, watch and delete on jobs\.batch/);
        return true;
      });
    });

    it('runs a Job to Complete on a real node, then deletes it and its pod', async () => {
      const outcome = await adapter(ns.kubeConfig).runJob!(jobRequest(ns, ['exit', '0']));
      assert.equal(outcome.kind, 'complete', outcome.message);
      assert.match(outcome.name, /^db-before-stage-1-[a-z0-9]{5}$/);
      assert.match(outcome.message, /^completed in \d/);
      // Both streams, in the order the runtime logged them.
      assert.deepEqual(outcome.log.split('\n').sort(), ['exit 0 on purpose', 'exiting with code 0']);
      await awaitJobGone(ns, outcome.name);
    });

    it('says a failed Job failed, with its log, and deletes it', async () => {
      const outcome = await adapter(ns.kubeConfig).runJob!(jobRequest(ns, ['exit', '3']));
      assert.equal(outcome.kind, 'failed');
      assert.match(outcome.message, /backoff limit/i);
      assert.match(outcome.log, /exiting with code 3/);
      assert.match(outcome.log, /exit 3 on purpose/);
      await awaitJobGone(ns, outcome.name);
    });

    it('deletes a Job that outlasts its timeout, and one whose run is cancelled', async () => {
      const cluster = adapter(ns.kubeConfig);
      const slow = await cluster.runJob!(jobRequest(ns, ['sleep', '60s'], { timeoutMs: 3_000 }));
      assert.equal(slow.kind, 'timeout');
      assert.equal(slow.message, 'did not end within 3 s');
      await awaitJobGone(ns, slow.name);

      const batch = ns.kubeConfig.makeApiClient(BatchV1Api);
      const cancel = new AbortController();
      const running = cluster.runJob!(jobRequest(ns, ['sleep', '60s'], { signal: cancel.signal }));
      let created: Awaited<ReturnType<typeof batch.listNamespacedJob>>['items'][number] | undefined;
      await waitFor(
        async () => {
          const jobs = await batch.listNamespacedJob({
            namespace: ns.name,
            labelSelector: `${JOB_LABEL}=db`,
          });
          created = jobs.items[0];
          return created !== undefined;
        },
        30_000,
        'the Job of the cancelled run to be created',
        100,
      );
      assert.deepEqual(created?.metadata?.labels, { ...created?.metadata?.labels, ...labels });
      assert.deepEqual(created?.spec?.template.metadata?.labels, {
        ...created?.spec?.template.metadata?.labels,
        ...labels,
      });
      assert.equal(created?.spec?.ttlSecondsAfterFinished, undefined);
      cancel.abort();
      const cancelled = await running;
      assert.equal(cancelled.kind, 'cancelled');
      assert.equal(cancelled.name, created?.metadata?.name);
      await awaitJobGone(ns, cancelled.name);
    });

    it('removes the Jobs a run left behind, by label, and only those', async () => {
      const batch = ns.kubeConfig.makeApiClient(BatchV1Api);
      const left = (name: string, statefulSet: string) => {
        const job = appJob(['sleep', '60s']) as unknown as Parameters<
          typeof batch.createNamespacedJob
        >[0]['body'];
        return batch.createNamespacedJob({
          namespace: ns.name,
          body: { ...job, metadata: { name, labels: { ...labels, [JOB_LABEL]: statefulSet } } },
        });
      };
      await left('left-behind', 'db');
      await left('other-statefulset', 'cache');
      try {
        const removed = await adapter(ns.kubeConfig).removeJobs!(ns.name, { [JOB_LABEL]: 'db' });
        assert.deepEqual(removed, ['left-behind']);
        await awaitJobGone(ns, 'left-behind');
        const rest = await batch.listNamespacedJob({ namespace: ns.name });
        assert.deepEqual(
          rest.items.map((j) => j.metadata?.name),
          ['other-statefulset'],
        );
      } finally {
        await batch
          .deleteNamespacedJob({
            name: 'other-statefulset',
            namespace: ns.name,
            propagationPolicy: 'Background',
          })
          .catch(() => undefined);
      }
    });

    it('refuses an invalid Job with JobRefused naming the field', async () => {
      const job = appJob(['exit', '0']);
      const spec = job.spec as { template: { spec: { restartPolicy: string } } };
      spec.template.spec.restartPolicy = 'Always';
      await assert.rejects(adapter(ns.kubeConfig).runJob!(jobRequest(ns, [], { job })), (error: unknown) => {
        assert.ok(error instanceof JobRefused, String(error));
        assert.match(error.message, /as invalid \(422\): .*spec\.template\.spec\.restartPolicy/);
        return true;
      });
    });
  });
}
