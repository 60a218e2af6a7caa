// Reporter combinators: pure wiring over the Reporter port, used by src/compose.ts.
import type { Reporter } from '../ports/reporter.ts';

/**
 * Drops reports of runs that changed nothing: a rerun with no change must not overwrite the
 * pull request's record of the rollout that did the change, nor add a comment or deployment.
 */
export function skipNoChange(reporter: Reporter): Reporter {
  return {
    update: (report) => (report.verdict === 'no-change' ? Promise.resolve() : reporter.update(report)),
    fleet: (fleet) => reporter.fleet?.(fleet),
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
