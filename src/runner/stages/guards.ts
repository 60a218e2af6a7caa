// What runs before a stage lowers the partition, and after it passed: the before-stage hooks,
// the primary moved out of the stage's way (engine/primary.ts), the before-checks ("is it safe
// to restart the next pods?") and the after-stage hooks. Nothing of the stage has restarted
// while these run, so a failing before-check waits and retries until its own timeout.

import type { PrimarySettings } from '../../config/primary.ts';
import {
  type AnalysisCheck,
  type CheckReport,
  type Measurement,
  runsInStage,
} from '../../engine/analysis.ts';
import type { StageFailure } from '../../engine/decide.ts';
import { judgeExec } from '../../engine/exec.ts';
import { gates, type Hook, type HookContext, type HookEvent, type HookReport } from '../../engine/hooks.ts';
import type { Observation } from '../../engine/observation.ts';
import { primaryStep, restartedBy } from '../../engine/primary.ts';
import { matches } from '../../engine/selector.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { containersOf } from '../rollout/objects.ts';
import { jobLogs } from './analysis.ts';
import { BeforeChecks, type GuardDeps, type GuardView } from './before-checks.ts';

export type { GuardDeps, GuardView } from './before-checks.ts';

import { runCall } from './calls.ts';

/** What guards the stages of one drive; undefined parts do nothing and cost no request. */
export interface GuardSpec {
  readonly checks: readonly AnalysisCheck[];
  readonly primary: PrimarySettings | undefined;
  readonly hooks: readonly Hook[];
  readonly previousRevision?: string | undefined;
  readonly runUrl?: string | undefined;
}

export type GuardOutcome =
  | { readonly kind: 'go' }
  | { readonly kind: 'failed'; readonly failure: StageFailure }
  | { readonly kind: 'paused'; readonly reason: string };

export interface GuardReports {
  /** The before-checks of a stage (1-based), every round. */
  onChecks(stage: number, reports: readonly CheckReport[]): void;
  onHook(report: HookReport): void;
}

export class StageGuards {
  private readonly deps: GuardDeps;
  private readonly ref: StatefulSetRef;
  private readonly target: string;
  private readonly spec: GuardSpec | undefined;
  private readonly reports: GuardReports;

  constructor(
    deps: GuardDeps,
    ref: StatefulSetRef,
    target: string,
    spec: GuardSpec | undefined,
    reports: GuardReports,
  ) {
    this.deps = deps;
    this.ref = ref;
    this.target = target;
    this.spec = spec;
    this.reports = reports;
  }

  /** Before stage `stage` (1-based) writes `partition`: hooks, the primary, the before-checks. */
  async before(
    stage: number,
    partition: number,
    view: GuardView,
    signal: AbortSignal,
  ): Promise<GuardOutcome> {
    const spec = this.spec;
    if (!spec) return { kind: 'go' };
    const pods = restartedBy(view.latest().pods, partition, this.target).map((p) => p.name);
    const hooked = await this.hooks('before-stage', { stage, partition, pods }, view, signal);
    if (hooked) return hooked;
    if (spec.primary) {
      const moved = await this.primaryFirst(spec.primary, stage, partition, view, signal);
      if (moved.kind !== 'go') return moved;
    }
    const checks = spec.checks.filter((c) => c.when === 'before' && runsInStage(c, stage));
    if (checks.length === 0) return { kind: 'go' };
    const failed = await new BeforeChecks(this.deps, this.ref, this.target).run(
      checks,
      stage,
      view,
      signal,
      (reports) => this.reports.onChecks(stage, reports),
    );
    if (!failed) return { kind: 'go' };
    const lines = failed.failed.map((m) => `${m.subject}: ${m.value}`);
    return this.failed(
      stage,
      'BeforeCheckFailed',
      `before-check ${failed.check.name} failed before stage ${stage} restarted any pod: ${failed.reason ?? 'failed'}${lines.length ? ` (${lines.join('; ')})` : ''}`,
      failed.failed,
    );
  }

  /** After stage `stage` passed: the after-stage hooks (reported, never failing the stage). */
  async after(stage: number, partition: number, view: GuardView, signal: AbortSignal): Promise<void> {
    const pods = view
      .latest()
      .pods.filter((p) => p.index >= partition)
      .map((p) => p.name);
    await this.hooks('after-stage', { stage, partition, pods }, view, signal);
  }

  /** Runs the hooks of `event` in order; a gating one that fails stops the rest and the stage. */
  async hooks(
    event: HookEvent,
    at: Partial<HookContext>,
    view: GuardView | undefined,
    signal: AbortSignal,
  ): Promise<GuardOutcome | undefined> {
    for (const hook of this.spec?.hooks ?? []) {
      if (!hook.on.includes(event)) continue;
      const answer = await this.call(hook.name, hook.call, { ...this.context(event), ...at }, view, signal);
      if (answer.ok || !gates(event)) continue;
      return this.failed(
        at.stage ?? 0,
        'HookFailed',
        `${event} hook ${hook.name} failed: ${answer.detail}`,
        answer.failed,
      );
    }
    return undefined;
  }

  private context(event: HookContext['event']): HookContext {
    return {
      event,
      namespace: this.ref.namespace,
      statefulset: this.ref.name,
      revision: this.target,
      previousRevision: this.spec?.previousRevision,
      runUrl: this.spec?.runUrl,
    };
  }

  private async call(
    name: string,
    call: Hook['call'],
    context: HookContext,
    view: GuardView | undefined,
    signal: AbortSignal,
  ): Promise<{ ok: boolean; detail: string; failed: Measurement[] }> {
    const { clock, log } = this.deps;
    const template = view?.latest().statefulSet.template;
    const firstContainer = containersOf(template)[0] ?? '';
    const answer = await runCall({ ...this.deps, firstContainer }, name, call, context, signal);
    const where = context.stage === undefined ? '' : `, stage ${context.stage}`;
    const line = `Hook ${name} (${context.event}${where}): ${answer.ok ? 'passed' : 'failed'}: ${answer.detail}`;
    if (answer.ok) log.info(line);
    else log.warning(line);
    this.reports.onHook({
      name,
      event: context.event,
      stage: context.stage,
      state: answer.ok ? 'passed' : 'failed',
      detail: answer.detail,
      at: clock.now(),
    });
    const failed: Measurement[] = answer.log
      ? [
          {
            check: name,
            subject: answer.log.name,
            value: answer.detail,
            verdict: 'fail',
            at: clock.now(),
            job: { name: answer.log.name, container: answer.log.container, log: answer.log.text },
          },
        ]
      : [];
    return { ok: answer.ok, detail: answer.detail, failed };
  }

  /** Moves the primary out of the stage's way, or pauses before the stage when it cannot. */
  private async primaryFirst(
    primary: PrimarySettings,
    stage: number,
    partition: number,
    view: GuardView,
    signal: AbortSignal,
  ): Promise<GuardOutcome> {
    const { log } = this.deps;
    const found = await this.awaitPrimary(primary, view, signal, undefined);
    if (found.kind !== 'found') return this.failed(stage, 'PrimaryNotFound', found.why);
    const step = primaryStep({
      pods: view.latest().pods,
      primary: found.pod,
      partition,
      target: this.target,
      canSwitch: primary.switchover !== undefined,
      stage,
    });
    switch (step.kind) {
      case 'keep':
        log.info(`Primary: ${step.why}`);
        return { kind: 'go' };
      case 'pause':
        log.notice(`Primary: ${step.reason}`);
        return { kind: 'paused', reason: step.reason };
      case 'switchover': {
        log.info(`Primary: switching over from ${step.from} to ${step.to} before stage ${stage}`);
        const switchover = primary.switchover;
        if (!switchover) return { kind: 'paused', reason: `no switchover for ${step.from}` };
        const context = {
          ...this.context('switchover'),
          stage,
          partition,
          from: step.from,
          to: step.to,
          primary: step.from,
        };
        const answer = await this.call('switchover', switchover, context, view, signal);
        if (!answer.ok)
          return this.failed(
            stage,
            'SwitchoverFailed',
            `switchover from ${step.from} to ${step.to} failed: ${answer.detail}`,
            answer.failed,
          );
        // The role may land elsewhere (Sentinel picks its own master): any pod the stage keeps will do.
        const restarted = new Set(restartedBy(view.latest().pods, partition, this.target).map((p) => p.name));
        const safe = (pod: string) => pod !== step.from && !restarted.has(pod);
        const moved = await this.awaitPrimary(primary, view, signal, { name: step.to, accepts: safe });
        if (moved.kind !== 'found')
          return this.failed(stage, 'SwitchoverFailed', `after the switchover to ${step.to}: ${moved.why}`);
        log.info(`Primary: ${moved.pod} holds the role; stage ${stage} restarts ${step.from} as a replica`);
        return { kind: 'go' };
      }
    }
  }

  /** Waits (up to primary.timeout) until exactly one pod is the primary, and it is `expected` when given. */
  private async awaitPrimary(
    primary: PrimarySettings,
    view: GuardView,
    signal: AbortSignal,
    expected: { readonly name: string; readonly accepts: (pod: string) => boolean } | undefined,
  ): Promise<{ kind: 'found'; pod: string } | { kind: 'missing'; why: string }> {
    const { clock } = this.deps;
    const deadline = clock.now() + primary.timeoutMs;
    const how =
      primary.selector !== undefined
        ? `label ${primary.selector}`
        : `exec ${primary.check?.command.join(' ')}`;
    for (;;) {
      const names = await this.primaries(primary, view.latest(), signal);
      const [only] = names;
      if (names.length === 1 && only !== undefined && (expected === undefined || expected.accepts(only)))
        return { kind: 'found', pod: only };
      if (signal.aborted || clock.now() >= deadline) {
        const seen = names.length === 0 ? 'no pod' : names.join(', ');
        const want =
          expected === undefined ? 'exactly one pod' : `${expected.name} (or another pod this stage keeps)`;
        return {
          kind: 'missing',
          why: `the primary (${how}) should be ${want}, but is ${seen} after ${primary.timeoutMs / 1000}s`,
        };
      }
      // A label moves with a watch event; an exec answer has to be asked again.
      await view.waitUntil(
        Math.min(deadline, clock.now() + (primary.selector !== undefined ? primary.timeoutMs : 1000)),
      );
    }
  }

  /** The pods that say they hold the primary role now. */
  private async primaries(
    primary: PrimarySettings,
    observation: Observation,
    signal: AbortSignal,
  ): Promise<string[]> {
    const live = observation.pods.filter((p) => !p.deleting);
    if (primary.selector !== undefined) {
      const selector = primary.selector;
      return live.filter((p) => matches(selector, p.labels ?? {})).map((p) => p.name);
    }
    const check = primary.check;
    const { cluster } = this.deps;
    if (!check || !cluster.exec) return [];
    const container = check.container ?? containersOf(observation.statefulSet.template)[0] ?? '';
    const answers = await Promise.all(
      live
        .filter((p) => p.phase === 'Running')
        .map(async (p) => {
          try {
            const answer = await cluster.exec?.({
              namespace: this.ref.namespace,
              pod: p.name,
              container,
              command: check.command,
              timeoutMs: check.timeoutMs,
              signal,
            });
            return answer && judgeExec(check, answer).verdict === 'pass' ? p.name : undefined;
          } catch {
            return undefined;
          }
        }),
    );
    return answers.filter((n): n is string => n !== undefined);
  }

  private failed(
    stage: number,
    reason: string,
    message: string,
    failed: readonly Measurement[] = [],
  ): GuardOutcome {
    return {
      kind: 'failed',
      failure: {
        stage,
        pod: '',
        container: undefined,
        reason,
        message,
        terminationMessage: undefined,
        ...jobLogs(failed, this.deps.log),
      },
    };
  }
}
