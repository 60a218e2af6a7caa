// Renders a PlanReport (src/engine/plan-report.ts) as GitHub-flavoured Markdown: one section per
// StatefulSet (the sticky plan comment on the pull request) and the whole plan (the job
// summary). Names, images, diffs, warnings and the API server's refusal come from the manifests
// or the cluster: they go through code(), fenced() or escapeMarkdown(), never in raw.
import type { PlanReport, StatefulSetPlan } from '../../../engine/plan-report.ts';
import { code, escapeMarkdown, fenced, formatElapsed, link } from './inline.ts';

/** How much of a template diff or a refusal the plan shows (a comment holds 65536 characters). */
const planDiffLimit = 20_000;

export interface PlanRenderOptions {
  /** A trusted hidden marker that goes first, verbatim. */
  readonly marker?: string;
  /** The commit the plan is for (the pull request's head). */
  readonly commit?: string;
  readonly runUrl?: string;
  /** When the plan was made (ms since the epoch). */
  readonly plannedAt?: number;
}

const kindWords: Record<StatefulSetPlan['kind'], string> = {
  new: '🆕 new StatefulSet, created without canary stages',
  change: '📋 staged rollout',
  'no-change': '⚪ no change',
};

function planHeadline(sts: StatefulSetPlan): string {
  const restarted = sts.stages.reduce((n, s) => n + s.ordinals.length, 0);
  const what =
    sts.kind === 'change'
      ? `${kindWords.change}: ${restarted} of ${sts.replicas} pods restart in ${sts.stages.length} stage${sts.stages.length === 1 ? '' : 's'}`
      : kindWords[sts.kind];
  return `### Plan for StatefulSet ${code(`${sts.namespace}/${sts.name}`)}: ${what}`;
}

function images(sts: StatefulSetPlan): string[] {
  if (sts.images.length === 0) return [];
  return [
    '| Container | Image before | Image after |',
    '| --- | --- | --- |',
    ...sts.images.map((image) => {
      const from = image.from === undefined ? '— (new)' : code(image.from, { cell: true });
      return `| ${code(image.container, { cell: true })} | ${from} | ${code(image.to, { cell: true })} |`;
    }),
  ];
}

function templateDiffLines(sts: StatefulSetPlan): string[] {
  if (sts.kind === 'no-change') {
    return ['**No change:** the pod template in the manifests equals the live one; no pod restarts.'];
  }
  if (sts.templateDiff === '') return [];
  const cut = sts.templateDiff.length > planDiffLimit;
  return [
    `**Pod template** (live → manifests, both as the API server defaults them${cut ? `; first ${planDiffLimit} characters` : ''}):`,
    '',
    fenced(sts.templateDiff, planDiffLimit, 'diff'),
  ];
}

function specChangeLines(sts: StatefulSetPlan): string[] {
  if (sts.specChanges.length === 0) return [];
  return [
    '**Other spec changes:**',
    '',
    '| Field | Live | Manifests |',
    '| --- | --- | --- |',
    ...sts.specChanges.map(
      (c) =>
        `| ${code(c.field, { cell: true })} | ${code(c.from, { cell: true })} | ${code(c.to, { cell: true })} |`,
    ),
  ];
}

function pauses(sts: StatefulSetPlan): string {
  if (sts.pauseAfter === 'each') return 'after each stage (then `command: promote`)';
  if (sts.pauseAfter.length === 0) return 'none';
  return `after stage ${sts.pauseAfter.join(', ')} (then \`command: promote\`)`;
}

function stages(sts: StatefulSetPlan): string[] {
  if (sts.kind !== 'change') return [];
  const pod = (ordinal: number) => code(`${sts.name}-${ordinal}`, { cell: true });
  return [
    `**Stages:** the partition is frozen at ${sts.replicas} (no pod restarts), then:`,
    '',
    '| Stage | Partition | Pods restarted | On the new revision after it |',
    '| ---: | ---: | --- | ---: |',
    ...sts.stages.map((s, i) => {
      const done = sts.stages.slice(0, i + 1).reduce((n, x) => n + x.ordinals.length, 0);
      return `| ${s.stage} | ${s.partition} | ${s.ordinals.map(pod).join(', ') || '—'} | ${done}/${sts.replicas} |`;
    }),
    '',
    `**Soak:** ${formatElapsed(sts.soakMs)} per stage (at least \`minReadySeconds\`) · **Pauses:** ${pauses(sts)} · **maxUnavailable:** ${escapeMarkdown(sts.maxUnavailable ?? 'at most 1 pod down at once')}`,
    ...(sts.analysis.length
      ? [
          '',
          '**Analysis** (each stage passes only when these pass too):',
          '',
          ...sts.analysis.map((a) => `- ${code(a, { max: 400 })}`),
        ]
      : []),
    ...(sts.hooks?.length
      ? ['', '**Hooks:**', '', ...sts.hooks.map((h) => `- ${code(h, { max: 400 })}`)]
      : []),
    ...(sts.primary
      ? [
          '',
          `**Primary:** ${sts.primary.pod === undefined ? 'not known yet' : code(sts.primary.pod)} (${code(sts.primary.finder)}), restarted last:`,
          '',
          ...sts.primary.moves.map((m) => `- ${code(m, { max: 400 })}`),
        ]
      : []),
  ];
}

function warnings(sts: StatefulSetPlan): string[] {
  if (sts.warnings.length === 0) return [];
  return [
    '#### ⚠️ Warnings',
    '',
    ...sts.warnings.map(
      (w) => `- ${escapeMarkdown(w.what, 1000)}\n  - **What to do:** ${escapeMarkdown(w.fix, 1000)}`,
    ),
  ];
}

function others(plan: PlanReport): string[] {
  if (plan.others.length === 0) return [];
  return [
    '**Other objects in the manifests:**',
    '',
    '| Object | Change |',
    '| --- | --- |',
    ...plan.others.map((o) => `| ${code(o.object, { cell: true })} | ${o.change} |`),
  ];
}

function refusal(plan: PlanReport, target: string | undefined): string[] {
  return [
    `### ❌ Plan${target === undefined ? '' : ` for StatefulSet ${code(target)}`}: the change would be refused`,
    '',
    '> [!CAUTION]',
    '> **The API server refuses these manifests:** a rollout after the merge would fail the same way, before any pod restarts. Change the manifests as it says:',
    '>',
    // A code span, not a fenced block: the API server's message is one long line that should
    // wrap, and reads as written (no backslash escapes) in the raw Markdown and in emails.
    `> ${code(plan.refusal ?? '', { max: 4000 })}`,
  ];
}

/** With `waves` or `clusters`: the order the run goes in, one line a wave. */
function order(plan: PlanReport): string[] {
  if (plan.order === undefined) return [];
  return [
    '#### Order',
    '',
    ...plan.order.map(
      (w, i) => `${i + 1}. ${escapeMarkdown(w.name, 200)}: ${w.members.map((m) => code(m)).join(', ')}`,
    ),
  ];
}

function planFooter(options: PlanRenderOptions): string {
  const parts = [
    options.commit === undefined ? undefined : `Planned for commit ${code(options.commit.slice(0, 12))}`,
    options.runUrl === undefined ? undefined : link('Workflow run', options.runUrl),
    options.plannedAt === undefined ? undefined : `Last updated ${new Date(options.plannedAt).toISOString()}`,
  ].filter((p) => p !== undefined);
  return `<sub>${parts.length === 0 ? 'statefulset-canary plan' : parts.join(' · ')}</sub>`;
}

function join(blocks: readonly (readonly string[])[], marker: string | undefined): string {
  const body = blocks
    .filter((b) => b.length > 0)
    .map((b) => b.join('\n'))
    .join('\n\n');
  return marker === undefined ? `${body}\n` : `${marker}\n${body}\n`;
}

function statefulSetBlocks(plan: PlanReport, sts: StatefulSetPlan): string[][] {
  return [
    [planHeadline(sts)],
    [`**Context:** ${code(plan.context)} · **Replicas:** ${sts.replicas}`],
    images(sts),
    templateDiffLines(sts),
    specChangeLines(sts),
    stages(sts),
    warnings(sts),
  ];
}

/**
 * The plan comment of one StatefulSet (`target`: `namespace/name`). A refused plan names no
 * StatefulSet plans: the comment of each of the manifests' StatefulSets shows the refusal.
 */
export function renderStatefulSetPlan(
  plan: PlanReport,
  target: string | undefined,
  options: PlanRenderOptions = {},
): string {
  if (plan.refusal !== undefined) return join([refusal(plan, target), [planFooter(options)]], options.marker);
  const sts = plan.statefulSets.find((s) => `${s.namespace}/${s.name}` === target);
  const blocks = sts === undefined ? [] : statefulSetBlocks(plan, sts);
  return join([...blocks, order(plan), others(plan), [planFooter(options)]], options.marker);
}

/** The whole plan (the job summary). */
export function renderPlan(plan: PlanReport, options: PlanRenderOptions = {}): string {
  if (plan.refusal !== undefined)
    return join([refusal(plan, undefined), [planFooter(options)]], options.marker);
  const blocks = plan.statefulSets.flatMap((sts) => statefulSetBlocks(plan, sts));
  if (plan.statefulSets.length === 0) blocks.push(['### Plan: no StatefulSet in the manifests']);
  return join([...blocks, order(plan), others(plan), [planFooter(options)]], options.marker);
}

/** Why the plan did not run (a fork's pull request): the job summary. */
export function renderPlanSkipped(why: string): string {
  return `### ⏭️ Plan not run\n\nThe plan cannot run: ${escapeMarkdown(why, 1000)}.\n\nThe check does not fail for this.\n`;
}

/** An old plan comment whose StatefulSet (`target`, or none) left the manifests. */
export function renderPlanGone(target: string | undefined, note: string, options: PlanRenderOptions): string {
  const what =
    target === undefined ? 'The plan of manifests without a StatefulSet' : `StatefulSet ${code(target)}`;
  return join(
    [
      [`### ⚪ Plan: ${target === undefined ? 'superseded' : `${code(target)} not in the manifests`}`],
      [
        `${what} ${note}: a merge does not roll it out. The plans of the StatefulSets it holds are in their own comments.`,
      ],
      [planFooter(options)],
    ],
    options.marker,
  );
}
