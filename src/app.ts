// One run of a command, shared by the action and the CLI (both built by src/compose.ts):
// manifests -> validation (dry-run) -> lock -> rollout or rollback -> result.
import { hostname } from 'node:os';
import type { Settings } from './config/settings.ts';
import type { PlanReport } from './engine/plan-report.ts';
import { RESULT_SEVERITY, type Result } from './engine/result.ts';
import { loadManifests } from './manifests/load.ts';
import type { Clock } from './ports/clock.ts';
import type { Cluster, StatefulSetRef } from './ports/cluster.ts';
import type { Lock } from './ports/lock.ts';
import type { Log } from './ports/log.ts';
import type { Reporter } from './ports/reporter.ts';
import { abortStatefulSet } from './runner/commands/abort.ts';
import { parkStatefulSet } from './runner/commands/park.ts';
import { buildPlan, planText } from './runner/commands/plan.ts';
import { promoteStatefulSet } from './runner/commands/promote.ts';
import { statusText } from './runner/commands/status.ts';
import { type Target, withLocks as withTargetLocks } from './runner/fleet/targets.ts';
import { withJobTemplates } from './runner/job-templates.ts';
import { rollbackStatefulSet } from './runner/rollback/by-hand.ts';
import { rolloutAll } from './runner/rollout/all.ts';
import type { RunContext, RunScope, StatefulSetResult } from './runner/run.ts';
import type { StageOutput } from './runner/stages/progress.ts';
import { ValidationError } from './runner/validate.ts';

export interface AppDeps {
  readonly cluster: Cluster;
  readonly lock: Lock;
  readonly clock: Clock;
  readonly log: Log;
  /** Every report of the run (one per StatefulSet, told apart by the report's namespace and name). */
  readonly reporter: Reporter;
  /** Namespace of the kubeconfig context (else `default`). */
  readonly defaultNamespace: string;
  readonly cwd: string;
  /** The contexts of the `clusters` input, each with its own cluster and lock; none: the one above. */
  readonly targets?: readonly Target[];
  /** Where a plan goes besides the log (the pull request's plan comment); none: the log only. */
  readonly publishPlan?: (plan: PlanReport) => Promise<void>;
}

/** The run scope, with the app's deps (the lock among them). */
interface AppScope extends RunScope {
  readonly deps: AppDeps;
}

/** How one StatefulSet's part of the run ended (the `statefulsets` output). */
interface StatefulSetOutcome {
  readonly statefulSet: string;
  /** The kube context it ran in. */
  readonly context: string;
  /** Its wave, 1-based (one StatefulSet after another: its place in the run). */
  readonly wave: number;
  readonly result: Result;
  readonly revision: string | undefined;
  readonly previousRevision: string | undefined;
  readonly message: string | undefined;
}

export interface Outcome {
  /** The worst result of any StatefulSet. */
  readonly result: Result;
  /** The revision and previous revision of the StatefulSet whose result is `result`. */
  readonly revision: string | undefined;
  readonly previousRevision: string | undefined;
  /** Every StatefulSet the run touched, in the order it did. */
  readonly statefulSets: readonly StatefulSetOutcome[];
  readonly stages: readonly (StageOutput & { statefulSet: string })[];
  readonly durationSeconds: number;
  /** Set when the step must fail, saying why. */
  readonly failure: string | undefined;
  /** Text for `status` and `plan`. */
  readonly text: string | undefined;
}

export async function execute(
  settings: Settings,
  deps: AppDeps,
  run: RunContext,
  signal: AbortSignal,
): Promise<Outcome> {
  const started = deps.clock.now();
  const scope: AppScope = { deps, settings, run, signal };
  const finish = (results: StatefulSetResult[], text?: string): Outcome =>
    summarize(settings, run, results, (deps.clock.now() - started) / 1000, text);
  switch (settings.command) {
    case 'rollout':
      return finish(await rollout(scope));
    case 'rollback': {
      const ref = targetRef(settings, deps);
      const result = await withLocks(scope, [ref], (locked) => rollbackStatefulSet(locked, ref));
      return finish([result]);
    }
    case 'promote':
    case 'abort': {
      const ref = targetRef(settings, deps);
      const result = await withLocks(scope, [ref], (locked) =>
        settings.command === 'promote' ? promoteStatefulSet(locked, ref) : abortStatefulSet(locked, ref),
      );
      return finish([result]);
    }
    case 'park': {
      const ref = targetRef(settings, deps);
      const text = await withLocks(scope, [ref], (locked) => parkStatefulSet(locked, ref));
      return finish([], text);
    }
    case 'comment':
      // Each command a comment asks for runs as its own command (src/compose-comment.ts).
      throw new ValidationError(
        'command comment runs only in a GitHub Actions job on an issue_comment event',
      );
    case 'status':
      return finish([], await statusText(deps.cluster, targetRef(settings, deps), deps.clock.now()));
    case 'plan': {
      const loaded = withJobTemplates(settings, await load(settings, deps));
      const plan = await buildPlan(deps, loaded.settings, loaded.manifests, run.contextName);
      await deps.publishPlan?.(plan);
      const outcome = finish([], planText(plan));
      // A refused change is what the plan is for: shown, and the step fails as the merge would.
      return plan.refusal ? { ...outcome, result: 'failed', failure: plan.refusal } : outcome;
    }
  }
}

/** The manifests, validated (a dry-run apply), then every StatefulSet they hold rolled out under its lock. */
async function rollout(given: AppScope): Promise<StatefulSetResult[]> {
  const loaded = withJobTemplates(given.settings, await load(given.settings, given.deps));
  const scope = { ...given, settings: loaded.settings };
  const { deps, run } = scope;
  const targets = deps.targets ?? [{ contextName: run.contextName, cluster: deps.cluster, lock: deps.lock }];
  return rolloutAll(scope, loaded.manifests, targets, holderOf(run));
}

/** Who holds a lock: the run URL tells people; the process makes two jobs of one run distinct. */
function holderOf(run: RunContext): string {
  return `${run.runUrl ?? 'statefulset-canary CLI'} (${hostname()} pid ${process.pid})`;
}

function targetRef(settings: Settings, deps: AppDeps): StatefulSetRef {
  if (!settings.statefulset)
    throw new ValidationError(`command ${settings.command} needs the statefulset input`);
  return { namespace: settings.namespace ?? deps.defaultNamespace, name: settings.statefulset };
}

function load(settings: Settings, deps: AppDeps) {
  return loadManifests(settings.manifests, {
    namespaceOverride: settings.namespace,
    defaultNamespace: deps.defaultNamespace,
    cwd: deps.cwd,
  });
}

/** Runs `body` holding the lock of every StatefulSet of `refs`; its scope's signal also stops on a lost lock. */
function withLocks<T>(
  scope: AppScope,
  refs: readonly StatefulSetRef[],
  body: (locked: RunScope) => Promise<T>,
): Promise<T> {
  const requests = refs.map((ref) => ({ lock: scope.deps.lock, ref }));
  return withTargetLocks(scope, requests, holderOf(scope.run), body);
}

const nameOf = (r: StatefulSetResult) =>
  `${r.context === undefined ? '' : `${r.context}/`}${r.ref.namespace}/${r.ref.name}`;

function summarize(
  settings: Settings,
  run: RunContext,
  results: readonly StatefulSetResult[],
  durationSeconds: number,
  text?: string,
): Outcome {
  // A StatefulSet rolled back because another failed appears twice: its last result stands.
  const last = new Map<string, StatefulSetResult>();
  for (const r of results) last.set(nameOf(r), r);
  const finals = [...last.values()];
  const worst = finals.reduce<StatefulSetResult | undefined>(
    (acc, r) =>
      acc === undefined || RESULT_SEVERITY.indexOf(r.result) > RESULT_SEVERITY.indexOf(acc.result) ? r : acc,
    undefined,
  );
  const ok: readonly Result[] =
    settings.command === 'rollback' || settings.command === 'abort'
      ? ['rolled-back', 'no-change']
      : ['succeeded', 'paused', 'not-gated', 'no-change', 'created'];
  const failed = results.find((r) => !ok.includes(r.result));
  return {
    result: worst?.result ?? 'no-change',
    revision: worst?.revision,
    previousRevision: worst?.previousRevision,
    statefulSets: finals.map((r, index) => ({
      statefulSet: nameOf(r),
      context: r.context ?? run.contextName,
      wave: r.wave ?? index + 1,
      result: r.result,
      revision: r.revision,
      previousRevision: r.previousRevision,
      message: r.message,
    })),
    stages: results.flatMap((r) => r.stages.map((s) => ({ statefulSet: nameOf(r), ...s }))),
    durationSeconds: Math.round(durationSeconds * 10) / 10,
    failure: failed ? `${nameOf(failed)}: ${failed.result}: ${failed.message ?? ''}` : undefined,
    text,
  };
}
