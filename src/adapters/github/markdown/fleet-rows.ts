// The rows of a fleet view (the pull request comment and the job summary of a run with more than
// one StatefulSet or context): each member of each wave with its newest report, or why it has
// none yet. Pure: what the fleet comment and summary show is decided here, rendered in fleet.ts.
import { type Fleet, type FleetMember, type FleetWave, memberKey } from '../../../engine/fleet.ts';
import type { RolloutReport, Verdict } from '../../../engine/report.ts';

/** A member's place in the view: reported, not started yet, or never to start in this run. */
type MemberStatus =
  | { readonly kind: 'reported'; readonly report: RolloutReport }
  | { readonly kind: 'waiting' }
  | { readonly kind: 'not-rolled-out' };

export interface FleetRow {
  readonly wave: FleetWave;
  readonly member: FleetMember;
  readonly status: MemberStatus;
}

/** Verdicts that stop the waves after them (a rollback of others follows a failure too). */
const stopping: ReadonlySet<Verdict> = new Set(['failed', 'halted', 'cancelled', 'rolled-back']);

/** Whether `report` is a failure to show first. */
export function isFailure(report: RolloutReport): boolean {
  return stopping.has(report.verdict);
}

/**
 * Every member, wave by wave. A member without a report is `waiting`, unless the run has ended
 * (`ended`) or a member of an earlier wave failed: then it is `not-rolled-out`.
 */
export function fleetRows(
  fleet: Fleet,
  reports: ReadonlyMap<string, RolloutReport>,
  ended: boolean,
): FleetRow[] {
  const rows: FleetRow[] = [];
  let stopped = ended;
  for (const wave of fleet.waves) {
    const reported = wave.members.map((member) => reports.get(memberKey(member)));
    for (const [i, member] of wave.members.entries()) {
      const report = reported[i];
      const status: MemberStatus =
        report !== undefined
          ? { kind: 'reported', report }
          : stopped
            ? { kind: 'not-rolled-out' }
            : { kind: 'waiting' };
      rows.push({ wave, member, status });
    }
    if (reported.some((r) => r !== undefined && isFailure(r))) stopped = true;
  }
  return rows;
}

/** How much a member's details matter, most first: what is cut last to fit the size limit. */
const importance: readonly Verdict[] = [
  'failed',
  'halted',
  'cancelled',
  'rolled-back',
  'in-progress',
  'paused',
  'not-gated',
  'succeeded',
  'created',
  'no-change',
];

/** The reported rows, failures first (then in progress, then done), each rank in wave order. */
export function byImportance(
  rows: readonly FleetRow[],
): Array<FleetRow & { readonly report: RolloutReport }> {
  return rows
    .flatMap((row) => (row.status.kind === 'reported' ? [{ ...row, report: row.status.report }] : []))
    .map((row, order) => ({ row, order, rank: importance.indexOf(row.report.verdict) }))
    .sort((a, b) => a.rank - b.rank || a.order - b.order)
    .map(({ row }) => row);
}

/**
 * The verdict of the whole run so far: the worst failure if any; else in progress while a
 * member is under way or waiting; else the least settled of the rest (paused before succeeded).
 * `undefined`: nothing was reported and nothing will be.
 */
export function fleetVerdict(rows: readonly FleetRow[]): Verdict | undefined {
  const reports = rows.flatMap((r) => (r.status.kind === 'reported' ? [r.status.report] : []));
  const worst = (among: readonly RolloutReport[]) =>
    among.reduce<Verdict | undefined>(
      (acc, r) =>
        acc === undefined || importance.indexOf(r.verdict) < importance.indexOf(acc) ? r.verdict : acc,
      undefined,
    );
  const failures = reports.filter(isFailure);
  if (failures.length > 0) return worst(failures);
  if (rows.some((r) => r.status.kind === 'waiting')) return 'in-progress';
  return worst(reports);
}

/** The run's contexts, in the order they first appear. */
export function contextsOf(fleet: Fleet): string[] {
  return [...new Set(fleet.waves.flatMap((w) => w.members.map((m) => m.context)))];
}
