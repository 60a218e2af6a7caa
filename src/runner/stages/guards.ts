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
import { gates, type Hook, type HookContext, type HookEvent, type HookReport } from '../../engine/hooks.ts';
import { restartedBy } from '../../engine/primary.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { containersOf } from '../rollout/objects.ts';
import { jobLogs } from './analysis.ts';
import { BeforeChecks, type GuardDeps, type GuardOutcome, type GuardView } from './before-checks.ts';
import { runCall } from './calls.ts';
import { type CallAnswer, movePrimary, type PrimaryGuard } from './primary.ts';

export type { GuardView } from './before-checks.ts';

/** What guards the stages of one drive; undefined parts do nothing and cost no request. */
export interface GuardSpec {
  readonly checks: readonly AnalysisCheck[];
  readonly primary: PrimarySettings | undefined;
  readonly hooks: readonly Hook[];
  readonly previousRevision?: string | undefined;
  readonly runUrl?: string | undefined;
}

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
      const moved = await movePrimary(this.primaryGuard(), spec.primary, { stage, partition }, view, signal);
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
  ): Promise<CallAnswer> {
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

  /** What moving the primary needs of these guards: their calls, context and failure. */
  private primaryGuard(): PrimaryGuard {
    return {
      deps: this.deps,
      ref: this.ref,
      target: this.target,
      context: (event) => this.context(event),
      call: (name, call, context, view, signal) => this.call(name, call, context, view, signal),
      failed: (stage, reason, message, failed) => this.failed(stage, reason, message, failed),
    };
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
