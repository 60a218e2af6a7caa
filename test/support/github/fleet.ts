// A fleet for the fleet view's tests: 12 StatefulSets in 3 waves across 2 clusters, and reports
// that end each of them in a different way (succeeded, failed, rolled back, never started).
import type { Fleet, FleetMember } from '../../../src/engine/fleet.ts';
import type { FailureReport, RolloutReport } from '../../../src/engine/report.ts';
import { stageReport, t0 } from './helpers.ts';

const member = (context: string, name: string): FleetMember => ({ context, namespace: 'shop', name });

/** Wave 1 in staging; wave 2 in eu-1; wave 3 in eu-1 and us-1 together (2 clusters, 12 members). */
export const twelve: Fleet = {
  waves: [
    {
      index: 0,
      name: 'staging',
      members: ['zookeeper', 'kafka', 'redis', 'postgres'].map((n) => member('staging', n)),
    },
    {
      index: 1,
      name: 'eu-1',
      members: ['zookeeper', 'kafka', 'redis', 'postgres'].map((n) => member('eu-1', n)),
    },
    {
      index: 2,
      name: 'the rest',
      members: [
        member('eu-1', 'search'),
        member('eu-1', 'cache'),
        member('staging', 'search'),
        member('staging', 'cache'),
      ],
    },
  ],
};

/** A report of `m` after `step` (helpers.ts stageReport), in its context. */
export function memberReport(
  m: FleetMember,
  step: number,
  overrides: Partial<RolloutReport> = {},
): RolloutReport {
  return stageReport(step, m.name, { context: m.context, namespace: m.namespace, ...overrides });
}

/** `report` failed at its canary stage with `failure`. */
export function failedAtCanary(report: RolloutReport, failure: FailureReport): RolloutReport {
  const stages = report.stages.map((s, i) =>
    i === 0 ? { ...s, state: 'failed' as const, endedAt: report.updatedAt } : s,
  );
  return { ...report, verdict: 'failed', failure, stages };
}

/** A failure at the canary, with a crash log of `logLines` lines of `lineChars` characters. */
export function crashFailure(pod: string, logLines = 20, lineChars = 200): FailureReport {
  return {
    stage: 1,
    pod,
    container: 'app',
    reason: 'CrashLoopBackOff',
    message: `container app of pod ${pod} is crash looping (restarted 3 times)`,
    terminationMessage: 'panic: cannot reach the controller quorum',
    crashLogs: [
      {
        pod,
        container: 'app',
        previous: true,
        lines: Array.from({ length: logLines }, (_, i) => `${i} ${'x'.repeat(lineChars)}`),
        cut: false,
        note: undefined,
      },
    ],
  };
}

/**
 * The fleet's final reports: staging all succeeded; in eu-1 kafka failed and zookeeper was
 * rolled back (on-failure-others: rollback), redis succeeded and postgres failed; wave 3 never
 * started (no report).
 */
export function finalReports(): Map<string, RolloutReport> {
  const [staging, eu] = twelve.waves;
  const reports = new Map<string, RolloutReport>();
  const put = (r: RolloutReport) => reports.set(`${r.context}/${r.namespace}/${r.name}`, r);
  for (const m of staging?.members ?? []) put(memberReport(m, 6));
  const [zk, kafka, redis, pg] = eu?.members ?? [];
  if (zk && kafka && redis && pg) {
    put(
      memberReport(zk, 6, {
        kind: 'rollback',
        verdict: 'rolled-back',
        rollback: {
          reason: 'shop/kafka failed in the same wave (on-failure-others: rollback)',
          toRevision: 'zookeeper-5c6d7e8f9',
          state: 'succeeded',
          deletedPods: [],
        },
        updatedAt: t0 + 400_000,
      }),
    );
    put(failedAtCanary(memberReport(kafka, 1), crashFailure('kafka-4')));
    put(memberReport(redis, 6));
    put(failedAtCanary(memberReport(pg, 0), crashFailure('postgres-4', 5, 80)));
  }
  return reports;
}
