// The driver's side of the guards (guards.ts): runs them before a stage lowers the partition and
// after it passed, on the drive's latest observation, and turns what they say into the drive's
// outcome. It also keeps each stage's checks as last reported, before-checks then the others.

import type { CheckReport } from '../../engine/analysis.ts';
import type { Observation } from '../../engine/observation.ts';
import { type GuardView, StageGuards } from './guards.ts';
import type { Drive, StageDeps, StagesOutcome } from './outcome.ts';
import type { Watched } from './waker.ts';

export class DriveGuards {
  private readonly deps: StageDeps;
  private readonly drive: Drive;
  private readonly seen: Watched;
  private readonly guards: StageGuards;
  /** The checks of each stage (1-based) as last reported: before-checks, then those after. */
  private readonly checkReports = new Map<
    number,
    { before: readonly CheckReport[]; after: readonly CheckReport[] }
  >();

  constructor(deps: StageDeps, drive: Drive, seen: Watched) {
    this.deps = deps;
    this.drive = drive;
    this.seen = seen;
    this.guards = new StageGuards(deps, drive.ref, drive.spec.targetRevision, drive.guards, {
      onChecks: (stage, reports) => this.reportChecks(stage, { before: reports }),
      onHook: (report) => drive.hooks.onHook?.(report),
    });
  }

  /** A stage's checks changed: reports the before-checks and the others together. */
  reportChecks(
    stage: number,
    change: { before?: readonly CheckReport[]; after?: readonly CheckReport[] },
  ): void {
    const reports = { before: [], after: [], ...this.checkReports.get(stage), ...change };
    this.checkReports.set(stage, reports);
    this.drive.hooks.onAnalysis?.(stage, [...reports.before, ...reports.after], this.deps.clock.now());
  }

  /** Before `stage` (0-based) lowers the partition: the drive's outcome when the guards end it. */
  async before(stage: number, observation: Observation): Promise<StagesOutcome | undefined> {
    const partition = this.drive.spec.partitions[stage];
    if (partition === undefined) return undefined;
    const guarded = await this.guards.before(stage + 1, partition, this.view(), this.drive.signal);
    if (this.drive.signal.aborted) return { kind: 'cancelled', stage: stage + 1 };
    const latest = this.seen.latest ?? observation;
    switch (guarded.kind) {
      case 'go':
        return undefined;
      case 'paused':
        return { kind: 'paused', stage, observation: latest, reason: guarded.reason };
      case 'failed':
        return { kind: 'failed', failure: guarded.failure, observation: latest };
    }
  }

  /** After stage `stage` (1-based, its partition `partition`) passed: its after-stage hooks. */
  async after(stage: number, partition: number): Promise<void> {
    await this.guards.after(stage, partition, this.view(), this.drive.signal);
  }

  /** The guards' view: the latest observation, and a wait for the next watch event. */
  private view(): GuardView {
    return {
      latest: () => {
        const latest = this.seen.latest;
        if (!latest) throw new Error('no observation of the StatefulSet yet');
        return latest;
      },
      waitUntil: (at) => this.seen.waker.until(at, this.deps.clock, this.drive.signal),
    };
  }
}
