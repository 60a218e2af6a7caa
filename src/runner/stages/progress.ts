// Keeps the report of one StatefulSet's run up to date and hands it to the reporter at
// each transition, without making the rollout wait for the reporter.
import type { CheckReport } from '../../engine/analysis.ts';
import type { StageFailure } from '../../engine/decide.ts';
import type { HookReport } from '../../engine/hooks.ts';
import { ordinalsOfStage } from '../../engine/plan.ts';
import type {
  ImageChange,
  RollbackReport,
  RolloutReport,
  StageReport,
  StageStatus,
  SupersededReport,
  Verdict,
} from '../../engine/report.ts';
import type { Reporter } from '../../ports/reporter.ts';

export interface StageOutput {
  readonly stage: number;
  readonly partition: number;
  readonly ordinals: readonly number[];
  readonly verdict: StageStatus;
  readonly startedAt: string | undefined;
  readonly endedAt: string | undefined;
  /** The stage's analysis checks, when it had any. */
  readonly analysis?: readonly CheckReport[];
}

export class Progress {
  private current: RolloutReport;
  private publishing: Promise<void> = Promise.resolve();

  private readonly reporter: Reporter;

  constructor(
    reporter: Reporter,
    initial: Omit<RolloutReport, 'stages' | 'failure' | 'rollback' | 'verdict' | 'updatedAt'>,
  ) {
    this.reporter = reporter;
    this.current = {
      ...initial,
      verdict: 'in-progress',
      stages: [],
      failure: undefined,
      rollback: undefined,
      updatedAt: initial.startedAt,
    };
  }

  get report(): RolloutReport {
    return this.current;
  }

  /**
   * Lays out the stages of a plan, all pending. Each stage names the ordinals it updates: the
   * pods whose index is in [partition, the stage before's), plus `ordinalsStart`.
   */
  plan(
    partitions: readonly number[],
    replicas: number,
    fromPartition: number,
    at: number,
    ordinalsStart = 0,
  ): void {
    let upper = fromPartition;
    const stages: StageReport[] = partitions.map((partition, index) => {
      const ordinals = ordinalsOfStage(upper, partition, ordinalsStart);
      upper = partition;
      return {
        stage: index + 1,
        partition,
        ordinals,
        updated: replicas - fromPartition,
        state: 'pending',
        startedAt: undefined,
        endedAt: undefined,
      };
    });
    this.set({ stages, replicas }, at);
  }

  /** Records the revisions and images; `publish: false` keeps it from the reporter until the next change. */
  revisions(
    previousRevision: string | undefined,
    revision: string | undefined,
    images: readonly ImageChange[],
    at: number,
    publish = true,
  ): void {
    this.set({ previousRevision, revision, images }, at, publish);
  }

  /** Records that this run started over a paused rollout of another pull request. */
  supersedes(superseded: SupersededReport, at: number): void {
    this.set({ superseded }, at);
  }

  stage(stage: number, change: Partial<StageReport>, at: number): void {
    const stages = this.current.stages.map((s) => (s.stage === stage ? { ...s, ...change } : s));
    this.set({ stages }, at);
  }

  failed(failure: StageFailure, at: number): void {
    const stages = this.current.stages.map((s) =>
      s.stage === failure.stage ? { ...s, state: 'failed' as const, endedAt: at } : s,
    );
    this.set({ stages, failure: { ...failure } }, at);
  }

  /** A hook (or switchover) ran. */
  hook(report: HookReport, at: number): void {
    this.set({ hooks: [...(this.current.hooks ?? []), report] }, at);
  }

  rollback(rollback: RollbackReport, at: number): void {
    this.set({ rollback }, at);
  }

  verdict(verdict: Verdict, at: number): void {
    const stages =
      verdict === 'cancelled'
        ? this.current.stages.map((s) =>
            s.state === 'progressing' || s.state === 'soaking'
              ? { ...s, state: 'cancelled' as const, endedAt: at }
              : s,
          )
        : this.current.stages;
    this.set({ verdict, stages }, at);
  }

  /** Waits until every report handed to the reporter has been published (or given up on). */
  async flush(): Promise<void> {
    await this.publishing;
  }

  outputs(): StageOutput[] {
    return this.current.stages.map((s) => ({
      stage: s.stage,
      partition: s.partition,
      ordinals: s.ordinals,
      verdict: s.state,
      startedAt: s.startedAt === undefined ? undefined : new Date(s.startedAt).toISOString(),
      endedAt: s.endedAt === undefined ? undefined : new Date(s.endedAt).toISOString(),
      ...(s.analysis?.length ? { analysis: s.analysis } : {}),
    }));
  }

  private set(change: Partial<RolloutReport>, at: number, publish = true): void {
    this.current = { ...this.current, ...change, updatedAt: at };
    if (!publish) return;
    const snapshot = this.current;
    // Not awaited: the reporter coalesces bursts, and the rollout never waits for it.
    const published = this.reporter.update(snapshot).catch(() => undefined);
    this.publishing = Promise.all([this.publishing, published]).then(() => undefined);
  }
}
