// Renders a fleet (every StatefulSet of a run, in every context, in waves) as one Markdown page:
// the pull request's one comment for the run, and its job summary. The headline, the failures
// and a table of every member come first and are always whole; then each member's details
// (the one-StatefulSet report of report.ts) in a collapsed section, failures first. To stay under
// a size limit (GitHub's 65,536 characters for a comment), the least important details go first:
// a succeeded member's before one in progress, and that before a failed one's, which is cut
// rather than left out while it still has room. clampBody is the last resort (a table of
// hundreds of members).
import type { Fleet } from '../../../engine/fleet.ts';
import type { RolloutReport } from '../../../engine/report.ts';
import { clampBody, maxBody } from '../comment.ts';
import { byImportance, contextsOf, type FleetRow, fleetRows, fleetVerdict, isFailure } from './fleet-rows.ts';
import { code, escapeMarkdown, htmlText, link } from './inline.ts';
import { renderReport, stageStates, verdictLabel } from './report.ts';

export interface FleetRenderOptions {
  /** Trusted first line (the comment's hidden marker), verbatim. */
  readonly marker?: string;
  /** The run has ended: a member that never reported was not rolled out. */
  readonly ended?: boolean;
  /** The most characters the page may have (default: the comment limit). */
  readonly max?: number;
}

/** Room kept for the note that says how many members' details were left out. */
const noteRoom = 200;
/** A cut shorter than this tells nothing: the details are left out instead. */
const minCut = 1500;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function statusCell(row: FleetRow): string {
  switch (row.status.kind) {
    case 'waiting':
      return '⚪ waiting';
    case 'not-rolled-out':
      return '⏹️ not rolled out';
    case 'reported':
      return verdictLabel(row.status.report);
  }
}

/** Where a reported member is: its current stage, its state and pods on the new revision. */
function stageCell(report: RolloutReport): string {
  const current = [...report.stages].reverse().find((s) => s.state !== 'pending');
  if (current === undefined) return '—';
  const rollback = report.kind === 'rollback' ? 'rollback ' : '';
  return `${rollback}${current.stage}/${report.stages.length} ${stageStates[current.state]} · ${current.updated}/${report.replicas} pods`;
}

const target = (row: FleetRow, cell = false) => code(`${row.member.namespace}/${row.member.name}`, { cell });

function table(rows: readonly FleetRow[]): string[] {
  const lines = ['| Wave | Cluster | StatefulSet | Stage | Result |', '| --- | --- | --- | --- | --- |'];
  for (const [i, row] of rows.entries()) {
    const first = i === 0 || rows[i - 1]?.wave !== row.wave;
    const wave = first ? `**${row.wave.index + 1}.** ${escapeMarkdown(row.wave.name, 100)}` : '';
    const stage = row.status.kind === 'reported' ? stageCell(row.status.report) : '—';
    lines.push(
      `| ${wave} | ${code(row.member.context, { cell: true })} | ${target(row, true)} | ${stage} | ${statusCell(row)} |`,
    );
  }
  return lines;
}

/** One line a failed member: what failed where, and why. */
function failures(rows: readonly FleetRow[]): string[] {
  const failed = byImportance(rows).filter((row) => isFailure(row.report));
  if (failed.length === 0) return [];
  const lines = failed.map((row) => {
    const { report } = row;
    const where = `${code(row.member.context)} · ${target(row)} (wave ${row.wave.index + 1})`;
    const why =
      report.failure !== undefined
        ? ` at stage ${report.failure.stage}: ${code(report.failure.reason)}, ${escapeMarkdown(report.failure.message, 200)}`
        : report.rollback !== undefined
          ? `: ${escapeMarkdown(report.rollback.reason, 200)}`
          : '';
    return `- ${verdictLabel(report)}, ${where}${why}`;
  });
  return [`#### Failures`, '', ...lines];
}

function headline(fleet: Fleet, rows: readonly FleetRow[]): string[] {
  const verdict = fleetVerdict(rows);
  const label = verdict === undefined ? '⏹️ not rolled out' : verdictLabel({ kind: 'rollout', verdict });
  const scope = [
    plural(rows.length, 'StatefulSet'),
    plural(fleet.waves.length, 'wave'),
    plural(contextsOf(fleet).length, 'cluster'),
  ].join(', ');
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(statusCell(row), (counts.get(statusCell(row)) ?? 0) + 1);
  const tally = [...counts].map(([status, n]) => `${status}: ${n}`).join(' · ');
  return [`### ${label}: ${scope}`, '', tally];
}

function footer(rows: readonly FleetRow[]): string {
  const reports = rows.flatMap((r) => (r.status.kind === 'reported' ? [r.status.report] : []));
  const runUrl = reports.find((r) => r.runUrl !== undefined)?.runUrl;
  const at = Math.max(...reports.map((r) => r.updatedAt));
  const updated = Number.isFinite(at) ? `Last updated ${new Date(at).toISOString()}` : '';
  const parts = [
    ...(runUrl === undefined ? [] : [link('Workflow run', runUrl)]),
    ...(updated ? [updated] : []),
  ];
  return parts.length === 0 ? '' : `<sub>${parts.join(' · ')}</sub>`;
}

function detailsOf(row: FleetRow & { readonly report: RolloutReport }, body: string): string {
  const where = `<code>${htmlText(row.member.context)}</code> · <code>${htmlText(`${row.member.namespace}/${row.member.name}`)}</code>`;
  return `<details><summary>${verdictLabel(row.report)}: ${where}</summary>\n\n${body.trimEnd()}\n\n</details>`;
}

/** Each reported member's details, most important first, as many as fit in `room` characters. */
function details(rows: readonly FleetRow[], room: number): string[] {
  const out: string[] = [];
  let left = room;
  let omitted = 0;
  for (const row of byImportance(rows)) {
    const full = detailsOf(row, renderReport(row.report));
    if (full.length + 2 <= left) {
      out.push(full);
      left -= full.length + 2;
      continue;
    }
    const wrapper = detailsOf(row, '').length + 2;
    if (left - wrapper >= minCut) {
      const cut = detailsOf(row, clampBody(renderReport(row.report), left - wrapper));
      out.push(cut);
      left -= cut.length + 2;
      continue;
    }
    omitted++;
  }
  if (omitted > 0)
    out.push(
      `<sub>Details of ${plural(omitted, 'StatefulSet')} left out to fit the size limit (the least important first): see the job summary or the workflow run.</sub>`,
    );
  return out;
}

/** The whole fleet as Markdown, within `options.max` characters. */
export function renderFleet(
  fleet: Fleet,
  reports: ReadonlyMap<string, RolloutReport>,
  options: FleetRenderOptions = {},
): string {
  const rows = fleetRows(fleet, reports, options.ended ?? false);
  const max = options.max ?? maxBody;
  const head = [headline(fleet, rows), failures(rows), table(rows)]
    .filter((block) => block.length > 0)
    .map((block) => block.join('\n'))
    .join('\n\n');
  const top = options.marker === undefined ? head : `${options.marker}\n${head}`;
  const foot = footer(rows);
  const room = max - top.length - foot.length - noteRoom;
  const body = [top, ...details(rows, room), ...(foot === '' ? [] : [foot])].join('\n\n');
  return clampBody(`${body}\n`, max);
}
