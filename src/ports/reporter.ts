// The Reporter port: where the report of a rollout goes at every stage transition
// (pull request comment, deployment status, job summary, console).
import type { RolloutReport } from '../engine/report.ts';

export interface Reporter {
  /**
   * Publishes the report's current state. Called at stage transitions, not per pod event.
   * Never throws: a reporter that cannot report warns and lets the rollout go on.
   */
  update(report: RolloutReport): Promise<void>;
}

/** Progress lines for the person watching the run (log groups per stage). */
export interface Log {
  info(message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  startGroup(title: string): void;
  endGroup(): void;
}
