// Unhealthy before it starts (issue 13, item 3), on the real controller: a pod below the first
// stage's partition that is not Ready keeps an OrderedReady controller from updating the
// canary. The rollout says which pod and why and refuses before changing anything; with
// allow-unhealthy-start it goes on (and passes once the pod heals).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import { canaryManifest } from '../support/manifests.ts';
import { type ActionRun, manifestFile, runAction } from '../support/run/in-process.ts';

describe('pods below the first partition not Ready when a rollout begins', () => {
  let ns: TestNamespace;
  before(async () => {
    ns = await freshNamespace('unhealthy-start');
  });
  after(() => ns.cleanup());

  const db = (image: string) =>
    manifestFile([canaryManifest({ image, replicas: 3, terminationGracePeriodSeconds: 0 })]);

  /** Sets db-0's Ready condition (as a kubelet whose readiness probe fails, then passes). */
  async function setReady(ready: boolean): Promise<void> {
    const core = ns.kubeConfig.makeApiClient(CoreV1Api);
    const pod = await core.readNamespacedPod({ name: 'db-0', namespace: ns.name });
    const status = pod.status ?? {};
    const now = new Date();
    const flip = (type: string) => (c: { type: string; status: string }) =>
      c.type === type ? { ...c, status: ready ? 'True' : 'False', lastTransitionTime: now } : c;
    await core.replaceNamespacedPodStatus({
      name: 'db-0',
      namespace: ns.name,
      body: {
        ...pod,
        status: {
          ...status,
          conditions: (status.conditions ?? []).map(flip('Ready')).map(flip('ContainersReady')),
          containerStatuses: (status.containerStatuses ?? []).map((c) => ({ ...c, ready })),
        },
      },
    });
  }

  async function run(inputs: Record<string, string>): Promise<ActionRun | Error> {
    try {
      return await runAction(ns, { soak: '1s', 'stage-timeout': '1m', steps: '1, 100%', ...inputs });
    } catch (error) {
      return error as Error;
    }
  }

  it('refuses by default, saying which pod and why, and changes nothing', async (t) => {
    const created = await run({ manifests: db('registry.local/db:v1') });
    assert.ok(!(created instanceof Error) && created.outcome.result === 'created', String(created));
    const apps = ns.kubeConfig.makeApiClient(AppsV1Api);
    const before = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    await setReady(false);
    const refused = await run({ manifests: db('registry.local/db:v2') });
    const message = refused instanceof Error ? refused.message : (refused.outcome.failure ?? '');
    t.diagnostic(message);
    assert.match(
      message,
      /pod db-0 below the first stage's partition 2 is not Ready before the rollout begins/,
    );
    assert.match(message, /: db-0 Running, not Ready for \d+ s: /);
    assert.match(message, /Nothing was changed\. .*allow-unhealthy-start: true/);
    const afterRun = await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(afterRun.metadata?.generation, before.metadata?.generation, 'the StatefulSet is unchanged');
    const plan = await run({ command: 'plan', manifests: db('registry.local/db:v2') });
    assert.ok(!(plan instanceof Error), String(plan));
    assert.match(
      plan.outcome.text ?? '',
      /warning: db-0 below the first stage's partition 2 is not Ready: .*the rollout refuses before changing anything/,
    );
  });

  it('goes on with allow-unhealthy-start, and the canary passes once the pod heals', async () => {
    const heal = setTimeout(() => void setReady(true), 4000);
    const went = await run({ manifests: db('registry.local/db:v2'), 'allow-unhealthy-start': 'true' });
    clearTimeout(heal);
    assert.ok(!(went instanceof Error), String(went));
    assert.equal(went.outcome.result, 'succeeded', `${went.outcome.failure}\n${went.logs.join('\n')}`);
    assert.ok(
      went.logs.some((l) =>
        /^warning: .*pod db-0 .* not Ready .*Going on, as allow-unhealthy-start is true/.test(l),
      ),
      went.logs.join('\n'),
    );
  });
});
