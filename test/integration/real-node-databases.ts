// The database gates on real nodes (issue 24), registered inside real-node.test.ts so that they
// share its private cluster: the test app plays a small primary/replica database (its roles in
// files every pod shares, test/cluster/node/app), read and moved through the real pods/exec and
// real Jobs. Each test rolls the app out with the bundled action as a runner does and reads the
// order of partitions and switchovers from the action's log, the roles from the files.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { BatchV1Api } from '@kubernetes/client-node';
import { realNodeLabel, realNodeTaint } from '../cluster/node/node-config.ts';
import type { FakeGitHub } from '../support/github/fake-server.ts';
import type { RealAppOptions } from '../support/real-node-app.ts';
import { toHtml } from '../support/rendered.ts';

interface Namespace {
  readonly name: string;
  readonly kubeConfig: import('@kubernetes/client-node').KubeConfig;
  cleanup(): Promise<void>;
}

interface Step {
  readonly code: number | null;
  readonly outputs: Map<string, string>;
  readonly comment: string;
  readonly summary: string;
  readonly log: string;
}

export interface DatabaseTestEnv {
  freshNamespace(prefix: string): Promise<Namespace>;
  rollout(ns: Namespace, app: RealAppOptions, inputs?: Record<string, string>): Promise<Step>;
  waitFor(
    check: () => Promise<boolean> | boolean,
    timeoutMs: number,
    what: string,
    everyMs?: number,
  ): Promise<void>;
  readonly clusterDir: string;
  fake(): FakeGitHub;
}

/** The primary found by the app's own answer, moved by the app's own switchover. */
const PRIMARY = [
  'exec: { command: [/app, is-primary] }',
  'switchover:',
  '  exec: { command: [/app, switchover, "{{to}}"] }',
].join('\n');

const role = (dir: string) => readFileSync(join(dir, 'primary'), 'utf8').trim();

/** The order of partition writes and switchovers in the action's log. */
function sequence(log: string): string[] {
  const seen: string[] = [];
  for (const line of log.split('\n')) {
    const stage = /Stage (\d+)\/\d+: partition (\d+)/.exec(line);
    if (stage) seen.push(`partition ${stage[2]}`);
    const moved = /Primary: switching over from (\S+) to (\S+) before stage/.exec(line);
    if (moved) seen.push(`switchover ${moved[1]} -> ${moved[2]}`);
  }
  return seen;
}

export function databaseTests(env: DatabaseTestEnv): void {
  /** A namespace and the role directory its pods share, with `primary` the primary. */
  async function database(prefix: string, primary: string) {
    const ns = await env.freshNamespace(prefix);
    const roleDir = join(env.clusterDir, 'roles', ns.name);
    mkdirSync(roleDir, { recursive: true });
    writeFileSync(join(roleDir, 'primary'), primary);
    return { ns, roleDir };
  }

  it('switches the primary at the canary ordinal over to a lower pod before the canary, and to an updated pod before the last stage', async () => {
    const { ns, roleDir } = await database('real-db-canary', 'db-2');
    try {
      const app = { tag: 'v1', replicas: 3, roleDir };
      assert.equal((await env.rollout(ns, app)).code, 0);
      const run = await env.rollout(ns, { ...app, tag: 'v2' }, { steps: '1, 100%', primary: PRIMARY });
      assert.equal(run.code, 0, run.log);
      assert.equal(run.outputs.get('result'), 'succeeded');
      assert.deepEqual(sequence(run.log), [
        'switchover db-2 -> db-0',
        'partition 2',
        'switchover db-0 -> db-2',
        'partition 0',
      ]);
      assert.equal(role(roleDir), 'db-2', 'the role ends on the updated canary');
      assert.match(run.comment, /#### 🪝 Hooks/);
      assert.match(
        run.comment,
        /`switchover` \(switchover, stage 1\): `db-2: exit 0: switchover from db-2 to db-0`/,
      );
    } finally {
      await ns.cleanup();
    }
  });

  it('switches the primary at ordinal 2 of 5 over to an updated pod before stage 2 of 1, 50%, 100%, and never again; hostile exec output stays inert', async () => {
    const { ns, roleDir } = await database('real-db-five', 'db-2');
    writeFileSync(
      join(roleDir, 'hostile'),
      '</details><img src=x onerror=alert(1)> [x](javascript:alert(1)) @octocat',
    );
    try {
      const app = { tag: 'v1', replicas: 5, roleDir };
      assert.equal((await env.rollout(ns, app)).code, 0);
      // A check whose answer is hostile Markdown (it passes: the regex finds it): shown, inert.
      const analysis = [
        '- name: hostile',
        '  exec: { command: [/app, cat, /roles/hostile], regex: onerror }',
        '  interval: 1s',
        '  count: 1',
        '  stages: [1]',
      ].join('\n');
      const run = await env.rollout(ns, { ...app, tag: 'v2' }, { primary: PRIMARY, analysis });
      assert.equal(run.code, 0, run.log);
      assert.deepEqual(sequence(run.log), [
        'partition 4',
        'switchover db-2 -> db-4',
        'partition 2',
        'partition 0',
      ]);
      assert.equal(role(roleDir), 'db-4');
      assert.match(run.log, /Primary: stage 3 does not restart the primary db-4/);
      const html = toHtml(run.comment);
      assert.doesNotMatch(html, /<img|<a href="javascript|<\/details>\s*<img/i);
      assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    } finally {
      await ns.cleanup();
    }
  });

  it('pauses before the stage that would restart the primary when no switchover is set', async () => {
    const { ns, roleDir } = await database('real-db-pause', 'db-1');
    try {
      const app = { tag: 'v1', replicas: 3, roleDir };
      assert.equal((await env.rollout(ns, app)).code, 0);
      const run = await env.rollout(
        ns,
        { ...app, tag: 'v2' },
        {
          steps: '1, 100%',
          primary: 'exec: { command: [/app, is-primary] }',
        },
      );
      assert.equal(run.outputs.get('result'), 'paused', run.log);
      assert.deepEqual(sequence(run.log), ['partition 2']);
      assert.match(
        run.log,
        /paused before stage 2 of 2 \(stage 2 would restart the primary db-1 and no switchover hook is set: move the role \(for example to db-2\) yourself, then promote\)/,
      );
      assert.equal(role(roleDir), 'db-1', 'nobody moved the role');
    } finally {
      await ns.cleanup();
    }
  });

  const lagCheck = (timeout: string) =>
    [
      '- name: in-sync',
      '  when: before',
      '  exec: { command: [/app, lag], json-path: $.lagSeconds, max: 5 }',
      '  interval: 1s',
      `  timeout: ${timeout}`,
      '  stages: [2]',
    ].join('\n');

  it('holds the next stage while a replica lags, and goes on once the lag falls', async () => {
    const { ns, roleDir } = await database('real-db-lag', 'db-0');
    try {
      const app = { tag: 'v1', replicas: 3, roleDir };
      assert.equal((await env.rollout(ns, app)).code, 0);
      writeFileSync(join(roleDir, 'lag-db-1'), '12');
      const running = env.rollout(ns, { ...app, tag: 'v2' }, { steps: '1, 100%', analysis: lagCheck('2m') });
      // The sticky comment shows each failed round: wait for the second one, then end the lag.
      await env.waitFor(
        () =>
          env
            .fake()
            .comments.some(
              (c) =>
                c.body.includes(`${ns.name}/db`) &&
                /`in-sync` \(exec, before the stage\): ⏳ measuring · [2-9] rounds/.test(c.body),
            ),
        60_000,
        'two failed rounds of the before-check in the comment',
        200,
      );
      writeFileSync(join(roleDir, 'lag-db-1'), '1');
      const run = await running;
      assert.equal(run.code, 0, run.log);
      assert.deepEqual(sequence(run.log), ['partition 2', 'partition 0']);
      assert.match(
        run.log,
        /Before-check in-sync, stage 2, round 1: db-1 = exit 0, \$\.lagSeconds = 12 \(exit 0, \$\.lagSeconds <= 5\) fail/,
      );
      const stages = JSON.parse(run.outputs.get('stages') ?? '[]') as {
        analysis?: { name: string; when?: string; failures: number; state: string }[];
      }[];
      const before = stages[1]?.analysis?.find((c) => c.name === 'in-sync');
      assert.equal(before?.when, 'before');
      assert.equal(before?.state, 'passed');
      assert.ok((before?.failures ?? 0) >= 2, JSON.stringify(before));
    } finally {
      await ns.cleanup();
    }
  });

  it('fails the rollout when the lag stays past the before-check timeout, before the stage restarts any pod', async () => {
    const { ns, roleDir } = await database('real-db-lagging', 'db-0');
    try {
      const app = { tag: 'v1', replicas: 3, roleDir };
      assert.equal((await env.rollout(ns, app)).code, 0);
      writeFileSync(join(roleDir, 'lag-db-1'), '30');
      const run = await env.rollout(
        ns,
        { ...app, tag: 'v2' },
        { steps: '1, 100%', analysis: lagCheck('4s') },
      );
      assert.equal(run.code, 1, run.log);
      assert.equal(run.outputs.get('result'), 'rolled-back');
      assert.deepEqual(sequence(run.log).slice(0, 1), ['partition 2'], 'stage 2 never wrote its partition');
      assert.match(
        run.log,
        /BeforeCheckFailed: before-check in-sync failed before stage 2 restarted any pod: not passed within its timeout of 4s \(last: db-1: exit 0, \$\.lagSeconds = 30/,
      );
      assert.match(run.comment, /`in-sync` \(exec, before the stage\): ❌ failed/);
      assert.match(run.comment, /BeforeCheckFailed/);
    } finally {
      await ns.cleanup();
    }
  });

  it("rolls the canary back when a Job smoke test fails, with the Job's log in the report, and leaves no Job", async () => {
    const ns = await env.freshNamespace('real-db-job');
    try {
      assert.equal((await env.rollout(ns, { tag: 'v1', replicas: 2 })).code, 0);
      const job = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              nodeSelector: { [realNodeLabel.key]: realNodeLabel.value },
              tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: 'NoSchedule' }],
              containers: [
                {
                  name: 'smoke',
                  image: 'statefulset-canary.local/app:v1',
                  imagePullPolicy: 'IfNotPresent',
                  command: ['/app', 'exit', '3'],
                  args: [],
                },
              ],
            },
          },
        },
      };
      const analysis = `- name: smoke\n  job:\n    timeout: 60s\n    template: ${JSON.stringify(job)}\n  interval: 1s\n  count: 1\n  stages: [1]`;
      const run = await env.rollout(ns, { tag: 'v2', replicas: 2 }, { analysis });
      assert.equal(run.code, 1, run.log);
      assert.equal(run.outputs.get('result'), 'rolled-back');
      assert.match(run.log, /analysis check smoke failed/);
      for (const [where, text] of [
        ['log', run.log],
        ['comment', run.comment],
      ] as const) {
        assert.ok(
          text.includes('exiting with code 3') && text.includes('exit 3 on purpose'),
          `${where} shows the Job's log:\n${text}`,
        );
      }
      const jobs = await ns.kubeConfig.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: ns.name });
      assert.deepEqual(
        jobs.items.map((j) => j.metadata?.name),
        [],
        'the Job was deleted',
      );
    } finally {
      await ns.cleanup();
    }
  });
}
