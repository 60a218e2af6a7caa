// The Reporter port: where the report of a rollout goes at every stage transition
// (pull request comment, deployment status, job summary, console).
import type { Fleet } from '../engine/fleet.ts';
import type { RolloutReport } from '../engine/report.ts';

export interface Reporter {
  /**
   * Publishes the report's current state. Called at stage transitions, not per pod event.
   * Never throws: a reporter that cannot report warns and lets the rollout go on.
   */
  update(report: RolloutReport): Promise<void>;

  /**
   * Told once, before the first StatefulSet of the run starts, what the whole run will do; a
   * reporter that shows one view of a fleet keeps a row for each member, reported or not yet.
   */
  fleet?(fleet: Fleet): void;
}
