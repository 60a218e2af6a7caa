// The project's own workflows (.github/workflows) parse as YAML, have the shape GitHub
// expects, and use the action only with inputs and outputs that action.yml declares.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';
import { unpinnedUses } from '../support/workflow-pins.ts';

const root = join(import.meta.dirname, '../..');
const workflowDirs = ['.github/workflows', 'examples/workflows'];

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly if?: string;
}

interface Job {
  readonly 'runs-on'?: unknown;
  readonly if?: string;
  readonly concurrency?: unknown;
  readonly environment?: string | { readonly name?: string; readonly deployment?: boolean | string };
  readonly needs?: string | string[];
  readonly steps?: Step[];
}

interface Workflow {
  readonly name?: string;
  readonly on?: unknown;
  readonly concurrency?: unknown;
  readonly jobs?: Record<string, Job>;
}

interface ActionYaml {
  readonly inputs: Record<string, { readonly required?: boolean; readonly default?: string }>;
  readonly outputs: Record<string, unknown>;
}

const action = load(readFileSync(join(root, 'action.yml'), 'utf8')) as ActionYaml;
const scripts = Object.keys(
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts,
);

const files = workflowDirs.flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f)),
);

/** Whether a step runs this repository's action (`uses: ./`). */
const usesLocal = (step: Step) => step.uses === './' || step.uses === '.';
/** Whether a step runs the action, locally or as users reference it (examples, README). */
const usesAction = (step: Step) =>
  usesLocal(step) || (step.uses?.startsWith('statefulset-canary/statefulset-canary@') ?? false);

/** Problems with how one job uses the action: undeclared inputs, outputs or step ids. */
export function actionUseProblems(job: Job): string[] {
  const problems: string[] = [];
  const steps = job.steps ?? [];
  const actionIds = new Set(steps.filter(usesAction).flatMap((s) => (s.id === undefined ? [] : [s.id])));
  steps.forEach((step, index) => {
    const label = step.id ?? step.name ?? `step ${index + 1}`;
    if (usesAction(step)) {
      for (const input of Object.keys(step.with ?? {}))
        if (!(input in action.inputs))
          problems.push(`${label}: input "${input}" is not declared in action.yml`);
      for (const [input, spec] of Object.entries(action.inputs))
        if (spec.required === true && !(input in (step.with ?? {})))
          problems.push(`${label}: required input "${input}" is missing`);
      if (usesLocal(step) && !steps.slice(0, index).some((s) => s.uses?.startsWith('actions/checkout@')))
        problems.push(`${label}: uses ./ before actions/checkout`);
    }
    const text = JSON.stringify(step);
    for (const [, id, output] of text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      const earlier = steps.slice(0, index).some((s) => s.id === id);
      if (!earlier) problems.push(`${label}: steps.${id} is not an earlier step of the job`);
      else if (actionIds.has(id ?? '') && !((output ?? '') in action.outputs))
        problems.push(`${label}: output "${output}" of ${id} is not declared in action.yml`);
    }
  });
  return problems;
}

/** Jobs that hand a secret to the action's kubeconfig input without running in an environment. */
export function kubeconfigJobsWithoutEnvironment(workflow: Workflow): string[] {
  return Object.entries(workflow.jobs ?? {}).flatMap(([id, job]) => {
    const holds = (job.steps ?? []).some((step) => String(step.with?.kubeconfig ?? '').includes('secrets.'));
    return holds && job.environment === undefined ? [`${id}: kubeconfig from a secret, no environment`] : [];
  });
}

/** Triggers that start a run for events a job's `if:` then skips (every comment, every run). */
const filteredTriggers = ['issue_comment', 'workflow_run', 'pull_request_review_comment'];

/**
 * GitHub puts a run in a workflow-level concurrency group when it is created, before any job's
 * `if:` is read; a new run in the group replaces the pending one (and with cancel-in-progress,
 * the running one), even when its jobs are then all skipped. So on triggers whose events a
 * filter mostly skips, the group must be on the filtered job, where a skipped job never joins it.
 */
export function concurrencyFilterProblems(workflow: Workflow): string[] {
  const on = workflow.on;
  const triggers = typeof on === 'string' ? [on] : Array.isArray(on) ? on : Object.keys(on ?? {});
  if (!triggers.some((t) => filteredTriggers.includes(String(t)))) return [];
  const filtered = Object.entries(workflow.jobs ?? {}).filter(([, job]) => job.if !== undefined);
  if (filtered.length === 0) return [];
  const problems: string[] = [];
  if (workflow.concurrency !== undefined)
    problems.push('workflow-level concurrency: every skipped event replaces the pending run');
  for (const [id, job] of filtered)
    if (job.concurrency === undefined) problems.push(`${id}: a filter without a job-level concurrency group`);
  return problems;
}

describe('the project workflows', () => {
  it('finds the CI, check-dist and end-to-end workflows', () => {
    for (const name of ['ci.yml', 'check-dist.yml', 'e2e.yml'])
      assert.ok(files.includes(join('.github/workflows', name)), `${name} in ${files.join(', ')}`);
  });

  for (const file of files) {
    describe(file, () => {
      const workflow = load(readFileSync(join(root, file), 'utf8')) as Workflow;

      it('has a name, triggers and jobs that each run on a runner with steps', () => {
        assert.equal(typeof workflow.name, 'string');
        assert.ok(workflow.on !== undefined && workflow.on !== null, 'no `on:` triggers');
        const jobs = Object.entries(workflow.jobs ?? {});
        assert.ok(jobs.length > 0, 'no jobs');
        for (const [id, job] of jobs) {
          assert.ok(job['runs-on'] !== undefined, `${id}: no runs-on`);
          assert.ok((job.steps ?? []).length > 0, `${id}: no steps`);
          for (const need of [job.needs ?? []].flat())
            assert.ok(need in (workflow.jobs ?? {}), `${id}: needs unknown job ${need}`);
        }
      });

      it('gives every step exactly one of uses and run, with actions pinned to a version', () => {
        for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
          for (const step of job.steps ?? []) {
            assert.ok(
              (step.uses === undefined) !== (step.run === undefined),
              `${id}: ${JSON.stringify(step)}`,
            );
            if (step.uses !== undefined && !usesAction(step))
              assert.match(step.uses, /^[\w.-]+\/[\w./-]+@[\w.-]+$/, `${id}: ${step.uses}`);
          }
        }
      });

      it('uses the action only with inputs and outputs declared in action.yml', () => {
        const problems = Object.entries(workflow.jobs ?? {}).flatMap(([id, job]) =>
          actionUseProblems(job).map((p) => `${id}: ${p}`),
        );
        assert.deepEqual(problems, []);
      });

      it('makes one deployment per run: a job whose action reports deployments names its environment with deployment: false', () => {
        for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
          const reports = (job.steps ?? []).some(
            (step) => usesAction(step) && (step.with?.['deployment-environment'] ?? '') !== '',
          );
          const env = job.environment;
          const jobDeploys = env !== undefined && (typeof env === 'string' || env.deployment !== false);
          assert.ok(
            !(reports && jobDeploys),
            `${id}: both the job's environment and deployment-environment deploy`,
          );
        }
      });

      it('reads a kubeconfig only in a job that names an environment (an environment secret, never a repository one)', () => {
        assert.deepEqual(kubeconfigJobsWithoutEnvironment(workflow), []);
      });

      it('puts a concurrency group beside the filter that skips comments, never at the workflow level', () => {
        assert.deepEqual(concurrencyFilterProblems(workflow), []);
      });

      it('passes expressions to run: scripts through env, never inside the script', () => {
        for (const [id, job] of Object.entries(workflow.jobs ?? {}))
          for (const step of job.steps ?? [])
            assert.ok(!(step.run ?? '').includes('${{'), `${id}: ${step.run}`);
      });

      it('runs only npm scripts that package.json defines', () => {
        const runs = Object.values(workflow.jobs ?? {}).flatMap((job) =>
          (job.steps ?? []).flatMap((s) => (s.run === undefined ? [] : [s.run])),
        );
        for (const run of runs)
          for (const [, script] of run.matchAll(/npm run ([\w:-]+)/g))
            assert.ok(scripts.includes(script ?? ''), `npm run ${script} is not a script in package.json`);
      });
    });
  }
});

describe('the release workflow', () => {
  const release = load(readFileSync(join(root, '.github/workflows/release.yml'), 'utf8')) as Workflow;
  it('releases only a commit on main, and writes only in environments', () => {
    const verify = release.jobs?.verify?.steps ?? [];
    assert.ok(
      verify.some((s) => /git merge-base --is-ancestor "\$GITHUB_SHA" origin\/main/.test(s.run ?? '')),
      'verify checks that the tagged commit is on main',
    );
    for (const [id, job] of Object.entries(release.jobs ?? {}))
      if (id !== 'verify') assert.ok(job.environment !== undefined, `${id} runs in an environment`);
  });
});

describe('the kubeconfig and concurrency checks', () => {
  const step = { uses: 'statefulset-canary/statefulset-canary@v0', with: { kubeconfig: 'x' } };
  const secretStep = { ...step, with: { kubeconfig: `$${'{{'} secrets.KUBECONFIG }}` } };
  it('refuses a job that reads the kubeconfig secret without an environment', () => {
    assert.deepEqual(kubeconfigJobsWithoutEnvironment({ jobs: { a: { steps: [secretStep] } } }), [
      'a: kubeconfig from a secret, no environment',
    ]);
    assert.deepEqual(
      kubeconfigJobsWithoutEnvironment({ jobs: { a: { environment: 'production', steps: [secretStep] } } }),
      [],
    );
  });
  it('refuses a workflow-level group over a filtered issue_comment job, and a filter without a group', () => {
    const job = { if: "contains(github.event.comment.body, '/canary')", steps: [step] };
    assert.deepEqual(
      concurrencyFilterProblems({ on: { issue_comment: {} }, concurrency: { group: 'g' }, jobs: { a: job } }),
      [
        'workflow-level concurrency: every skipped event replaces the pending run',
        'a: a filter without a job-level concurrency group',
      ],
    );
    assert.deepEqual(
      concurrencyFilterProblems({ on: { issue_comment: {} }, jobs: { a: { ...job, concurrency: 'g' } } }),
      [],
    );
    assert.deepEqual(concurrencyFilterProblems({ on: 'push', concurrency: 'g', jobs: { a: job } }), []);
  });
});

describe('the action use check', () => {
  // A workflow expression, built so no source line holds a template-like `${{`.
  const expression = (text: string) => `$${'{{'} ${text} }}`;
  const checkout = { uses: 'actions/checkout@v5' };
  const cases: ReadonlyArray<readonly [string, Job, readonly string[]]> = [
    [
      'accepts declared inputs and outputs',
      {
        steps: [
          checkout,
          { id: 'a', uses: './', with: { soak: '5s' } },
          { run: `echo ${expression('steps.a.outputs.result')}` },
        ],
      },
      [],
    ],
    [
      'rejects an undeclared input',
      { steps: [checkout, { id: 'a', uses: './', with: { soak_time: '5s' } }] },
      ['a: input "soak_time" is not declared in action.yml'],
    ],
    [
      'rejects an undeclared output',
      {
        steps: [
          checkout,
          { id: 'a', uses: './' },
          { name: 'x', run: `echo ${expression('steps.a.outputs.status')}` },
        ],
      },
      ['x: output "status" of a is not declared in action.yml'],
    ],
    [
      'rejects a step id that is not earlier in the job',
      {
        steps: [
          checkout,
          { name: 'x', if: "steps.b.outputs.result == 'x'", run: 'true' },
          { id: 'b', uses: './' },
        ],
      },
      ['x: steps.b is not an earlier step of the job'],
    ],
    [
      'rejects uses ./ before checkout',
      { steps: [{ id: 'a', uses: './' }] },
      ['a: uses ./ before actions/checkout'],
    ],
  ];
  for (const [name, job, expected] of cases) {
    it(name, () => assert.deepEqual(actionUseProblems(job), expected));
  }
});

describe('action pinning', () => {
  for (const file of [...files, 'README.md'])
    it(`${file} pins every third-party action by full commit SHA with its version`, () =>
      assert.deepEqual(unpinnedUses(readFileSync(join(root, file), 'utf8')), []));
  it('refuses a tag, a short SHA, a SHA without its version, and our action without a word on pinning', () =>
    assert.deepEqual(
      unpinnedUses(
        [
          '      - uses: actions/checkout@v5',
          `      - uses: actions/checkout@${'a'.repeat(7)} # v5.0.0`,
          `      - uses: actions/checkout@${'a'.repeat(40)}`,
          `        uses: actions/cache@${'b'.repeat(40)} # v4.3.0`,
          '      - uses: statefulset-canary/statefulset-canary@v0',
          '      - uses: statefulset-canary/statefulset-canary@v0 # pin it',
          '        uses: ./',
        ].join('\n'),
      ),
      [
        'line 1: actions/checkout@v5 is not pinned by a full commit SHA',
        `line 2: actions/checkout@${'a'.repeat(7)} is not pinned by a full commit SHA`,
        `line 3: actions/checkout@${'a'.repeat(40)} has no "# vX.Y.Z" comment`,
        'line 5: statefulset-canary/statefulset-canary@v0 says nothing about pinning it',
      ],
    ));
});

describe('the one-job-per-cluster example (examples/workflows/clusters.yml)', () => {
  const workflow = load(readFileSync(join(root, 'examples/workflows/clusters.yml'), 'utf8')) as Workflow;
  const jobs = Object.entries(workflow.jobs ?? {});
  const actionStep = (job: Job) => (job.steps ?? []).find(usesAction);
  it('goes from cluster to cluster in order: each job after the one before it', () => {
    assert.deepEqual(
      jobs.map(([id, job]) => [id, job.needs ?? null]),
      [
        ['staging', null],
        ['eu-1', 'staging'],
        ['us', 'eu-1'],
      ],
    );
  });
  it('keeps each cluster apart: its own environment, context, concurrency group and deployments', () => {
    for (const [id, job] of jobs) {
      const env = typeof job.environment === 'string' ? job.environment : job.environment?.name;
      const step = actionStep(job);
      assert.ok(step !== undefined, `${id} runs the action`);
      assert.equal(step.with?.context, env, `${id}: the context is the environment's cluster`);
      assert.equal(step.with?.['deployment-environment'], env, `${id}: deployments per cluster`);
      assert.equal(
        (job.concurrency as { group?: string } | undefined)?.group,
        `rollout-${env}`,
        `${id}: a concurrency group per cluster`,
      );
    }
  });
});
