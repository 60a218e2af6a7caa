// The copyable CI templates of docs/other-ci.md, run against the local cluster with the packed npm
// package: examples/ci/gitlab-ci.yml's jobs (their `script:` lines in order in one bash with
// `set -eo pipefail`, as GitLab's shell runs them, with the template's variables and the ones
// GitLab sets) and examples/ci/tekton-task.yaml's step (its script with params, workspaces and
// results substituted as Tekton substitutes them, the `args` array as its arguments).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import { dump, load } from 'js-yaml';
import { EXIT_CODES, JSON_KEYS } from '../../src/adapters/console/outcome.ts';
import { repoRoot } from '../cluster/control-plane/state.ts';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import {
  node24Dir,
  type PackedCli,
  packCli,
  type Ran,
  runCommand,
  said,
  tempDirs,
} from '../support/cli-package.ts';
import { canaryManifest } from '../support/manifests.ts';

type GitLabVariable = string | { value: string; description: string };
interface GitLabJob {
  extends?: string;
  image?: string;
  stage?: string;
  variables?: Record<string, GitLabVariable>;
  rules?: { if: string; when?: string }[];
  environment?: { name: string };
  resource_group?: string;
  script?: string[];
  artifacts?: { when?: string; paths?: string[]; reports?: { dotenv?: string } };
  cache?: { key: string; paths: string[] };
}

const gitlab = load(readFileSync(join(repoRoot, 'examples/ci/gitlab-ci.yml'), 'utf8')) as Record<
  string,
  unknown
>;

/** A job with its `extends:` merged in as GitLab merges it (hashes deep, the rest replaced). */
function gitlabJob(name: string): GitLabJob {
  const job = gitlab[name] as GitLabJob | undefined;
  assert.ok(job, `examples/ci/gitlab-ci.yml has no job ${name}`);
  if (!job.extends) return job;
  const base = gitlabJob(job.extends);
  return {
    ...base,
    ...job,
    variables: { ...base.variables, ...job.variables },
    artifacts: { ...base.artifacts, ...job.artifacts },
  };
}

const variableValue = (v: GitLabVariable) => (typeof v === 'string' ? v : v.value);

/** `$NAME` and `${NAME}` in a variable's value, expanded from `env` as GitLab expands them. */
const expand = (value: string, env: Record<string, string>) =>
  value.replace(/\$\{?(\w+)\}?/g, (_, name: string) => env[name] ?? '');

describe('the CI templates, run against the local cluster', () => {
  let ns: TestNamespace;
  let packed: PackedCli;
  let work: string;
  let kubeconfig: string;
  let home: string;
  const temp = tempDirs();
  const tempDir = temp.make;
  /** A checkout of a user's repository: k8s/db.yaml at `image`. */
  const checkout = (image: string) => {
    const dir = tempDir('sts-canary-checkout-');
    mkdirSync(join(dir, 'k8s'));
    writeFileSync(join(dir, 'k8s/db.yaml'), dump(canaryManifest({ image, replicas: 3 })));
    return dir;
  };
  // The tests' settings, as a user appends flags to the template's lines.
  const fast = ['--soak', '0s', '--stage-timeout', '90s', '--steps', '1, 100%'];

  before(async () => {
    ns = await freshNamespace('ci-templates');
    work = tempDir('sts-canary-ci-');
    kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, ns.kubeConfig.exportConfig(), { mode: 0o600 });
    home = join(work, 'home');
    mkdirSync(home);
    packed = packCli();
    temp.keep(dirname(packed.tarball));
  });
  after(async () => {
    await ns.cleanup();
    temp.removeAll();
  });

  const image = async () =>
    (
      await ns.kubeConfig
        .makeApiClient(AppsV1Api)
        .readNamespacedStatefulSet({ name: 'db', namespace: ns.name })
    ).spec?.template.spec?.containers[0]?.image;

  describe('GitLab CI (examples/ci/gitlab-ci.yml)', () => {
    /**
     * Runs `name`'s script lines in `project` as a GitLab runner's bash shell does, with the
     * template's variables, the job's, the ones GitLab sets for `source`, and `set` (the
     * project's CI/CD variables and the "Run pipeline" form). `append` goes after the first
     * line's command, as a user adds flags.
     */
    function runJob(
      name: string,
      project: string,
      source: string,
      set: Record<string, string>,
      append: string[] = [],
    ): Ran {
      const job = gitlabJob(name);
      const predefined: Record<string, string> = {
        CI: 'true',
        GITLAB_CI: 'true',
        CI_PROJECT_DIR: project,
        CI_PIPELINE_SOURCE: source,
        CI_DEFAULT_BRANCH: 'main',
        CI_COMMIT_BRANCH: 'main',
        CI_JOB_NAME: name,
      };
      const env: Record<string, string> = {
        PATH: `${node24Dir}:/usr/bin:/bin`,
        HOME: home,
        // The package is the packed tarball, which needs nothing from the registry.
        npm_config_offline: 'true',
        ...predefined,
      };
      for (const [key, value] of Object.entries(gitlab.variables as Record<string, GitLabVariable>))
        env[key] = expand(variableValue(value), env);
      for (const [key, value] of Object.entries(job.variables ?? {}))
        env[key] = expand(variableValue(value), env);
      Object.assign(env, set);
      const lines = [...(job.script ?? [])];
      assert.ok(lines.length > 0, `${name} has script lines`);
      if (append.length > 0) {
        const quoted = append.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
        lines[0] = (lines[0] as string).replace(' --json ', ` ${quoted} --json `);
      }
      return runCommand('bash', ['-c', `set -eo pipefail\n${lines.join('\n')}`], env, project, 240_000);
    }
    const cluster = () => ({ STATEFULSET_CANARY: packed.tarball, KUBECONFIG: kubeconfig });
    const json = (project: string, file: string) =>
      JSON.parse(readFileSync(join(project, file), 'utf8')) as Record<string, unknown>;
    const dotenv = (project: string, file: string) =>
      Object.fromEntries(
        readFileSync(join(project, file), 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
      );

    it('declares the jobs as docs/other-ci.md says: when each runs, its environment, lock and artifacts', () => {
      const plan = gitlabJob('statefulset-canary:plan');
      const rollout = gitlabJob('statefulset-canary:rollout');
      const rollback = gitlabJob('statefulset-canary:rollback');
      for (const job of [plan, rollout, rollback]) {
        assert.match(job.image ?? '', /^node:24(-|$)/);
        assert.equal(job.artifacts?.when, 'always', 'a failed run keeps its outcome');
        assert.deepEqual(job.cache?.paths, ['.npm/']);
        assert.equal(job.variables?.npm_config_cache, '$CI_PROJECT_DIR/.npm', 'the cached folder is npm’s');
        for (const line of job.script ?? []) {
          // A plain YAML scalar with ": " in it is a mapping, which GitLab refuses as a line.
          assert.equal(typeof line, 'string', `a script line of ${JSON.stringify(job.stage)} is a string`);
          assert.doesNotMatch(
            line,
            /\$\{?CI_(MERGE_REQUEST_TITLE|COMMIT_MESSAGE)/,
            'no user text in the shell',
          );
        }
      }
      assert.deepEqual(plan.rules, [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
      assert.deepEqual(rollout.rules, [
        { if: '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' },
      ]);
      assert.deepEqual(rollback.rules, [
        { if: '$CI_PIPELINE_SOURCE == "web" && $ROLLBACK_STATEFULSET', when: 'manual' },
      ]);
      assert.equal(rollout.environment?.name, rollback.environment?.name);
      assert.equal(rollout.resource_group, rollback.resource_group, 'a rollback waits for a rollout');
      assert.deepEqual(rollout.artifacts?.paths, ['rollout.json']);
      assert.equal(rollout.artifacts?.reports?.dotenv, 'rollout.env');
      assert.deepEqual(plan.artifacts?.paths, ['plan.json']);
      assert.deepEqual(rollback.artifacts?.paths, ['rollback.json']);
      const variables = gitlab.variables as Record<string, GitLabVariable>;
      for (const name of [
        'ROLLBACK_STATEFULSET',
        'ROLLBACK_NAMESPACE',
        'ROLLBACK_TO_REVISION',
        'ROLLBACK_REASON',
      ])
        assert.match(
          typeof variables[name] === 'object' ? variables[name].description : '',
          /^Roll back: /,
          `${name} is described in the Run pipeline form`,
        );
      assert.equal(variableValue(variables.STATEFULSET_CANARY as GitLabVariable), 'statefulset-canary@0');
    });

    it('rolls out on the default branch, plans a merge request, fails a crash-looping canary, and rolls back by hand', async () => {
      // The first rollout creates the StatefulSet.
      const first = checkout('registry.local/db:v1');
      const created = runJob('statefulset-canary:rollout', first, 'push', cluster(), fast);
      assert.equal(created.code, EXIT_CODES.ok, said(created));
      assert.deepEqual(Object.keys(json(first, 'rollout.json')), [...JSON_KEYS]);
      assert.equal(dotenv(first, 'rollout.env').RESULT, 'created');
      const v1 = dotenv(first, 'rollout.env').REVISION;
      assert.match(v1 ?? '', /^db-[0-9a-z]+$/);
      assert.match(created.stdout, /^created: db-/m);

      // A merge request's plan changes nothing and prints the stages.
      const mr = checkout('registry.local/db:v2');
      const plan = runJob('statefulset-canary:plan', mr, 'merge_request_event', cluster(), fast);
      assert.equal(plan.code, EXIT_CODES.ok, said(plan));
      assert.match(plan.stdout, /stage 1: partition 2, restarts ordinal 2/);
      assert.equal(json(mr, 'plan.json').result, 'no-change');
      assert.equal(await image(), 'registry.local/db:v1', 'the plan changed nothing');

      // Merged: the staged rollout.
      const rolled = runJob('statefulset-canary:rollout', mr, 'push', cluster(), fast);
      assert.equal(rolled.code, EXIT_CODES.ok, said(rolled));
      const env = dotenv(mr, 'rollout.env');
      assert.equal(env.RESULT, 'succeeded');
      assert.equal(env.PREVIOUS_REVISION, v1);
      assert.notEqual(env.REVISION, v1);
      assert.deepEqual(
        (json(mr, 'rollout.json').stages as { partition: number }[]).map((s) => s.partition),
        [2, 0],
      );
      assert.equal(await image(), 'registry.local/db:v2');

      // A canary that crash-loops: rolled back, and the job fails with 1, its outcome kept.
      const bad = checkout('registry.local/db:v3-crashloop');
      const failed = runJob('statefulset-canary:rollout', bad, 'push', cluster(), fast);
      assert.equal(failed.code, EXIT_CODES.failed, said(failed));
      assert.equal(dotenv(bad, 'rollout.env').RESULT, 'rolled-back');
      assert.match(String(json(bad, 'rollout.json').failure), /CrashLoopBackOff/);
      assert.match(failed.stdout, /^rolled-back: .*CrashLoopBackOff/m);
      assert.equal(await image(), 'registry.local/db:v2', 'the rollback restored the template');

      // A bad manifests variable: exit 2, nothing done, and still an outcome that says why.
      const typo = runJob('statefulset-canary:rollout', bad, 'push', {
        ...cluster(),
        MANIFESTS: 'k8s/nope.yaml',
      });
      assert.equal(typo.code, EXIT_CODES.usage, said(typo));
      assert.equal(dotenv(bad, 'rollout.env').RESULT, 'failed');
      assert.match(String(json(bad, 'rollout.json').failure), /k8s\/nope\.yaml.*matches no file/);

      // Run pipeline with the rollback variables: back to v1, the previous revision.
      const form = {
        ROLLBACK_STATEFULSET: 'db',
        ROLLBACK_NAMESPACE: ns.name,
        ROLLBACK_REASON: 'v2 slows the index build',
      };
      // The rollback job needs no manifests: an empty checkout.
      const empty = tempDir('sts-canary-checkout-');
      const back = runJob('statefulset-canary:rollback', empty, 'web', { ...cluster(), ...form }, fast);
      assert.equal(back.code, EXIT_CODES.ok, said(back));
      assert.equal(back.stdout.trim(), `rolled-back: ${v1}`, said(back));
      assert.equal(json(empty, 'rollback.json').result, 'rolled-back');
      assert.equal(await image(), 'registry.local/db:v1');
    });
  });

  describe('Tekton (examples/ci/tekton-task.yaml)', () => {
    interface Step {
      name: string;
      image: string;
      workingDir: string;
      env: { name: string; value: string }[];
      args: string[];
      script: string;
    }
    interface Task {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: {
        params: { name: string; type?: string; default: string | string[] }[];
        workspaces: { name: string; optional?: boolean }[];
        results: { name: string }[];
        steps: Step[];
      };
    }
    const task = load(readFileSync(join(repoRoot, 'examples/ci/tekton-task.yaml'), 'utf8')) as Task;
    const step = task.spec.steps[0] as Step;
    /** Every `$(...)` reference in the step, as Tekton reads them. */
    const references = [
      ...JSON.stringify(step).matchAll(/\$\((params|results|workspaces)\.([\w-]+)(?:\.(\w+)|\[\*\])?\)/g),
    ];

    it('is a tekton.dev/v1 Task whose step uses only what it declares, and writes every result', () => {
      assert.equal(task.apiVersion, 'tekton.dev/v1');
      assert.equal(task.kind, 'Task');
      assert.equal(task.spec.steps.length, 1);
      const declared = {
        params: task.spec.params.map((p) => p.name),
        results: task.spec.results.map((r) => r.name),
        workspaces: task.spec.workspaces.map((w) => w.name),
      };
      for (const [, kind, name] of references)
        assert.ok(
          declared[kind as keyof typeof declared].includes(name as string),
          `$(${kind}.${name}) is declared`,
        );
      const used = (kind: string) => new Set(references.filter((r) => r[1] === kind).map((r) => r[2]));
      assert.deepEqual([...used('params')].sort(), [...declared.params].sort(), 'every param is used');
      assert.deepEqual([...used('results')].sort(), ['previous-revision', 'result', 'revision']);
      assert.deepEqual(declared.results.sort(), ['previous-revision', 'result', 'revision']);
      assert.doesNotMatch(
        step.script,
        /\$\(params\./,
        'params reach the script through env, never spliced in',
      );
      const kubeconfigWorkspace = task.spec.workspaces.find((w) => w.name === 'kubeconfig');
      assert.equal(kubeconfigWorkspace?.optional, true, 'without it, the ServiceAccount');
      assert.deepEqual(step.args, ['$(params.args[*])']);
      const syntax = spawnSync('bash', ['-n'], { input: step.script, encoding: 'utf8' });
      assert.equal(syntax.status, 0, syntax.stderr);
    });

    /**
     * The step run as Tekton runs it: `params` over the defaults, each `$(...)` replaced in the
     * env values and the script, the script written to a file and run with the args array.
     */
    function runStep(params: Record<string, string | string[]>, project: string) {
      const values = Object.fromEntries(task.spec.params.map((p) => [p.name, params[p.name] ?? p.default]));
      const kubeconfigDir = tempDir('sts-canary-tekton-kubeconfig-');
      writeFileSync(join(kubeconfigDir, 'config'), readFileSync(kubeconfig));
      const resultsDir = tempDir('sts-canary-tekton-results-');
      const substitute = (text: string) =>
        text.replace(
          /\$\((params|results|workspaces)\.([\w-]+)(?:\.(\w+))?\)/g,
          (whole, kind, name, field) => {
            if (kind === 'params') return String(values[name]);
            if (kind === 'results' && field === 'path') return join(resultsDir, name);
            if (kind === 'workspaces' && name === 'source' && field === 'path') return project;
            if (kind === 'workspaces' && name === 'kubeconfig' && field === 'path') return kubeconfigDir;
            if (kind === 'workspaces' && name === 'kubeconfig' && field === 'bound') return 'true';
            assert.fail(`no substitution for ${whole}`);
          },
        );
      const env: Record<string, string> = { PATH: `${node24Dir}:/usr/bin:/bin`, npm_config_offline: 'true' };
      for (const { name, value } of step.env) env[name] = substitute(value);
      env.HOME = home; // /tekton/home is the pod's; here, the test's
      assert.equal(substitute(step.image), 'node:24-slim');
      assert.equal(substitute(step.workingDir), project);
      const script = join(tempDir('sts-canary-tekton-script-'), 'script');
      writeFileSync(script, substitute(step.script), { mode: 0o755 });
      const args = values.args as string[];
      const ran = runCommand(script, args, env, project, 240_000);
      const results = Object.fromEntries(
        task.spec.results.map((r) => [r.name, readFileSync(join(resultsDir, r.name), 'utf8')]),
      );
      return { ...ran, results };
    }

    it('rolls out, reports status and fails a crash-looping canary with its results written', async () => {
      const v4 = checkout('registry.local/db:v4');
      const rolled = runStep({ manifests: 'k8s/*.yaml', args: fast, package: packed.tarball }, v4);
      assert.equal(rolled.code, EXIT_CODES.ok, said(rolled));
      assert.match(rolled.results.result ?? '', /^(succeeded|created)$/);
      assert.match(rolled.results.revision ?? '', /^db-[0-9a-z]+$/);
      assert.equal(await image(), 'registry.local/db:v4');

      const status = runStep(
        { command: 'status', statefulset: 'db', namespace: ns.name, package: packed.tarball },
        v4,
      );
      assert.equal(status.code, EXIT_CODES.ok, said(status));
      assert.equal(status.results.result, 'no-change');
      assert.match(status.stdout, /db/);

      const bad = checkout('registry.local/db:v5-crashloop');
      const failed = runStep({ manifests: 'k8s/*.yaml', args: fast, package: packed.tarball }, bad);
      assert.equal(failed.code, EXIT_CODES.failed, said(failed));
      assert.equal(failed.results.result, 'rolled-back');
      // Rolled back: `revision` is where it is (v4 again), `previous-revision` the one that failed.
      assert.equal(failed.results.revision, rolled.results.revision, said(failed));
      assert.match(failed.results['previous-revision'] ?? '', /^db-[0-9a-z]+$/);
      assert.notEqual(failed.results['previous-revision'], rolled.results.revision);
      assert.match(failed.stdout, /CrashLoopBackOff/);
      assert.equal(await image(), 'registry.local/db:v4');

      const typo = runStep(
        { command: 'rollout', args: ['--soak', 'soon'], manifests: 'k8s/*.yaml', package: packed.tarball },
        bad,
      );
      assert.equal(typo.code, EXIT_CODES.usage, said(typo));
      assert.equal(typo.results.result, 'failed');
      assert.match(typo.stdout, /soak/);
    });
  });
});
