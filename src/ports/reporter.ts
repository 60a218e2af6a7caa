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
