// Renders a RolloutReport as GitHub-flavoured Markdown, shared by the pull request comment
// and the job summary. Everything that comes from the cluster or the manifests is untrusted:
// it goes through escapeMarkdown (inline) or fenced (blocks), never in raw.

import { CRASH_LOG, type CrashLog } from '../../../engine/crash-log.ts';
import type {
  FailureReport,
  RollbackReport,
  RolloutReport,
  StageReport,
  StageStatus,
  Verdict,
} from '../../../engine/report.ts';
import { analysisSection, hooksSection } from './analysis.ts';
import {
  code,
  escapeMarkdown,
  fenced,
  formatElapsed,
  formatOrdinals,
  link,
  terminationMessageLimit,
} from './inline.ts';

const verdicts: Record<
  Verdict,
  { readonly emoji: string; readonly rollout: string; readonly rollback: string }
> = {
  'in-progress': { emoji: '🔄', rollout: 'rollout in progress', rollback: 'rollback in progress' },
  succeeded: { emoji: '✅', rollout: 'rollout succeeded', rollback: 'rollback succeeded' },
  paused: { emoji: '⏯️', rollout: 'rollout paused', rollback: 'rollback paused' },
  'not-gated': { emoji: '⚠️', rollout: 'synced without a gate', rollback: 'synced without a gate' },
  failed: { emoji: '❌', rollout: 'rollout failed', rollback: 'rollback failed' },
  halted: { emoji: '⏸️', rollout: 'rollout halted', rollback: 'rollback halted' },
  'rolled-back': { emoji: '↩️', rollout: 'rolled back', rollback: 'rolled back' },
  cancelled: { emoji: '🚫', rollout: 'rollout cancelled', rollback: 'rollback cancelled' },
  'no-change': { emoji: '⚪', rollout: 'no change', rollback: 'no change' },
  created: { emoji: '🆕', rollout: 'created', rollback: 'created' },
};

export const stageStates: Record<StageStatus, string> = {
  pending: '⚪ pending',
  progressing: '🔄 progressing',
  soaking: '⏳ soaking',
  passed: '✅ passed',
  failed: '❌ failed',
  cancelled: '🚫 cancelled',
};

const rollbackStates: Record<RollbackReport['state'], string> = {
  'in-progress': '🔄 in progress',
  succeeded: '✅ succeeded',
  failed: '❌ failed',
};

/** The report's verdict as the headline says it: its emoji and words (`✅ rollout succeeded`). */
export function verdictLabel(report: Pick<RolloutReport, 'kind' | 'verdict'>): string {
  const verdict = verdicts[report.verdict];
  return `${verdict.emoji} ${report.kind === 'rollback' ? verdict.rollback : verdict.rollout}`;
}

function reportHeadline(report: RolloutReport): string {
  const verdict = verdicts[report.verdict];
  const what = report.kind === 'rollback' ? verdict.rollback : verdict.rollout;
  const target = code(`${report.namespace}/${report.name}`);
  return `### ${verdict.emoji} StatefulSet ${target}: ${what}`;
}

function revisions(report: RolloutReport): string[] {
  const from = report.previousRevision === undefined ? '—' : code(report.previousRevision);
  const to = report.revision === undefined ? '—' : code(report.revision);
  const lines = [`**Revision:** ${from} → ${to} · **Replicas:** ${report.replicas}`];
  if (report.images.length > 0) {
    lines.push('', '| Container | Image before | Image after |', '| --- | --- | --- |');
    for (const image of report.images) {
      const from = image.from === undefined ? '—' : code(image.from, { cell: true });
      lines.push(
        `| ${code(image.container, { cell: true })} | ${from} | ${code(image.to, { cell: true })} |`,
      );
    }
  }
  return lines;
}

function stageRow(stage: StageReport, report: RolloutReport): string {
  const ordinals =
    stage.ordinals.length === 0
      ? ''
      : ` (${stage.ordinals.length === 1 ? 'ordinal' : 'ordinals'} ${formatOrdinals(stage.ordinals)})`;
  const end =
    stage.endedAt ??
    (stage.state === 'progressing' || stage.state === 'soaking' ? report.updatedAt : undefined);
  const duration =
    stage.startedAt === undefined || end === undefined ? '—' : formatElapsed(end - stage.startedAt);
  return `| ${stage.stage}${ordinals} | ${stage.partition} | ${stage.updated}/${report.replicas} | ${stageStates[stage.state]} | ${duration} |`;
}

function stagesTable(report: RolloutReport): string[] {
  if (report.stages.length === 0) return [];
  return [
    '| Stage | Partition | Pods on new revision | State | Duration |',
    '| --- | ---: | ---: | --- | ---: |',
    ...report.stages.map((stage) => stageRow(stage, report)),
  ];
}

function failureSection(failure: FailureReport): string[] {
  const lines = [
    '#### ❌ Failure',
    '',
    `- **Stage:** ${failure.stage}`,
    `- **Pod:** ${failure.pod === '' ? '—' : code(failure.pod)}`,
    `- **Container:** ${failure.container === undefined ? '—' : code(failure.container)}`,
    `- **Reason:** ${code(failure.reason)}`,
    `- **Message:** ${escapeMarkdown(failure.message, 1000)}`,
  ];
  const why = failure.diagnosis ?? [];
  if (why.length > 0) lines.push('- **Why:**', ...why.map((line) => `  - ${code(line, { max: 1000 })}`));
  if (failure.terminationMessage !== undefined && failure.terminationMessage.trim() !== '') {
    const cut = failure.terminationMessage.length > terminationMessageLimit;
    lines.push(
      '',
      `Last termination message${cut ? ` (first ${terminationMessageLimit} characters)` : ''}:`,
      '',
      fenced(failure.terminationMessage),
    );
  }
  for (const log of failure.crashLogs ?? []) lines.push('', ...crashLogBlock(log));
  return lines;
}

/** The most a crash log's block holds: its lines, each with its newline. */
const crashLogChars = CRASH_LOG.TAIL_LINES * (CRASH_LOG.LINE_CHARS + 1);

/** A crashed container's last log lines as a fenced block, or the line saying why there are none. */
function crashLogBlock(log: CrashLog): string[] {
  const who = `${code(log.pod)}, container ${code(log.container)}${log.previous ? ' (previous instance)' : ''}`;
  if (log.note !== undefined) return [`Log of ${who}: ${escapeMarkdown(log.note)}`];
  const cut = log.cut ? `, cut at ${CRASH_LOG.LIMIT_BYTES} bytes` : '';
  return [
    `Last ${log.lines.length} log lines of ${who}${cut}:`,
    '',
    fenced(log.lines.join('\n'), crashLogChars),
  ];
}

/** Why pods of the stages in progress are stuck, one line a pod (each line is cluster text). */
function stuckSection(report: RolloutReport): string[] {
  if (report.failure !== undefined) return [];
  const stuck = report.stages.filter(
    (s) => (s.state === 'progressing' || s.state === 'soaking') && s.stuck?.length,
  );
  if (stuck.length === 0) return [];
  const lines = ['#### ⏳ Waiting on'];
  for (const stage of stuck) {
    lines.push(
      '',
      `Stage ${stage.stage}:`,
      '',
      ...(stage.stuck ?? []).map((line) => `- ${code(line, { max: 1000 })}`),
    );
  }
  return lines;
}

function rollbackSection(rollback: RollbackReport): string[] {
  const deleted = rollback.deletedPods.map((pod) => code(pod)).join(', ');
  return [
    '#### ↩️ Rollback',
    '',
    `- **State:** ${rollbackStates[rollback.state]}`,
    `- **To revision:** ${code(rollback.toRevision)}`,
    `- **Reason:** ${escapeMarkdown(rollback.reason, 1000)}`,
    `- **Pods deleted to unstick the controller:** ${deleted === '' ? 'none' : deleted}`,
  ];
}

function reportFooter(report: RolloutReport, planUrl: string | undefined): string {
  const updated = `Last updated ${new Date(report.updatedAt).toISOString()}`;
  const plan = planUrl === undefined ? '' : `${link('Plan of this change', planUrl)} · `;
  return report.runUrl === undefined
    ? `<sub>${plan}${updated}</sub>`
    : `<sub>${plan}${link('Workflow run', report.runUrl)} · ${updated}</sub>`;
}

/**
 * The whole report as Markdown. `marker` (trusted, e.g. a hidden HTML comment that lets the
 * comment be found again) goes first, verbatim.
 */
/** What was paused and how to go on, for the people watching the pull request. */
function pausedSection(report: RolloutReport): string[] {
  const passed = report.stages.filter((s) => s.state === 'passed');
  const last = passed[passed.length - 1];
  const where =
    last === undefined
      ? 'before its first stage'
      : `after stage ${last.stage} of ${report.stages.length}, with ${last.updated}/${report.replicas} pods on the new revision (partition ${last.partition})`;
  const target = code(`${report.namespace}/${report.name}`);
  return [
    '#### ⏯️ Paused',
    '',
    `The rollout of ${target} is paused ${where}. No runner waits; the partition holds.`,
    '',
    '- **To go on:** comment `/canary promote` (with the pull request commands workflow), or run the action with `command: promote`.',
    '- **To go back:** comment `/canary abort`, or run `command: abort`.',
    '- **To look:** comment `/canary status`, or run `command: status`.',
  ];
}

export function renderReport(
  report: RolloutReport,
  options: {
    readonly marker?: string;
    /** The pull request's last plan comment (issue 16): linked from the rollout comment. */
    readonly planUrl?: string;
  } = {},
): string {
  const blocks: string[][] = [
    [reportHeadline(report)],
    revisions(report),
    stagesTable(report),
    stuckSection(report),
    analysisSection(report),
    hooksSection(report),
  ];
  if (report.verdict === 'paused') blocks.push(pausedSection(report));
  if (report.failure !== undefined) blocks.push(failureSection(report.failure));
  if (report.rollback !== undefined) blocks.push(rollbackSection(report.rollback));
  blocks.push([reportFooter(report, options.planUrl)]);
  const body = blocks
    .filter((block) => block.length > 0)
    .map((block) => block.join('\n'))
    .join('\n\n');
  return options.marker === undefined ? `${body}\n` : `${options.marker}\n${body}\n`;
}
