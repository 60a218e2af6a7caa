// Reporter combinators: pure wiring over the Reporter port, used by src/compose.ts.
import { type Fleet, isFleet } from '../engine/fleet.ts';
import type { RolloutReport } from '../engine/report.ts';
import type { Reporter } from '../ports/reporter.ts';

/**
 * Drops reports of runs that changed nothing: a rerun with no change must not overwrite the
 * pull request's record of the rollout that did the change, nor add a comment or deployment.
 * In a fleet, a member with no change is held back until another member changes something:
 * then the fleet view shows it as `no change` rather than as waiting.
 */
export function skipNoChange(reporter: Reporter): Reporter {
  let fleet: Fleet | undefined;
  let changed = false;
  const held: RolloutReport[] = [];
  return {
    update(report) {
      if (report.verdict === 'no-change') {
        if (fleet === undefined) return Promise.resolve();
        if (!changed) {
          held.push(report);
          return Promise.resolve();
        }
      } else if (fleet !== undefined && !changed) {
        changed = true;
        for (const earlier of held.splice(0)) void reporter.update(earlier);
      }
      return reporter.update(report);
    },
    fleet(given) {
      fleet = isFleet(given) ? given : undefined;
      reporter.fleet?.(given);
    },
  };
}

/** Hands every report (and the fleet) to each reporter; one that fails does not stop the others. */
export function fanOut(reporters: readonly Reporter[]): Reporter {
  return {
    async update(report) {
      await Promise.all(reporters.map((r) => r.update(report).catch(() => undefined)));
    },
    fleet(fleet) {
      for (const r of reporters) {
        try {
          r.fleet?.(fleet);
        } catch {
          // A reporter that cannot show the fleet must not stop the rollout (the port's promise).
        }
      }
    },
  };
}
