// The analysis section of a report: per stage, one compact line per check with its last value
// against its threshold, and on failure the measurements that failed. Every value came from a
// pod or Prometheus and goes into code spans only.
import type { CheckReport, Measurement } from '../../../engine/analysis.ts';
import type { HookReport } from '../../../engine/hooks.ts';
import type { RolloutReport } from '../../../engine/report.ts';
import { code } from './inline.ts';

const STATES: Readonly<Record<CheckReport['state'], string>> = {
  running: '⏳ measuring',
  passed: '✅ passed',
  failed: '❌ failed',
  stopped: '⏹️ stopped (the stage ended first)',
};

const VALUE_MAX = 120;

function measured(m: Measurement): string {
  return code(`${m.subject}: ${m.value}`, { max: VALUE_MAX });
}

function checkLine(check: CheckReport): string[] {
  const state =
    check.dryRun && check.state === 'failed' ? '⚠️ failed (dry run: not gating)' : STATES[check.state];
  const before = check.when === 'before';
  const kind = `${check.kind}${before ? ', before the stage' : ''}${check.dryRun && check.state !== 'failed' ? ', dry run' : ''}`;
  const parts = [
    `${code(check.name)} (${kind}): ${state}`,
    // A before-check retries until `of` rounds in a row pass.
    before
      ? `${check.rounds} round${check.rounds === 1 ? '' : 's'}, ${check.of} in a row to pass`
      : `${check.rounds}/${check.of} rounds`,
    `last ${check.last === undefined ? '—' : measured(check.last)}`,
    `threshold ${code(check.threshold)}`,
  ];
  if (check.failures > 0) parts.push(`${check.failures} failed`);
  if (check.errors > 0) parts.push(`${check.errors} error${check.errors === 1 ? '' : 's'}`);
  const lines = [`- ${parts.join(' · ')}`];
  if (check.state === 'failed' && check.reason !== undefined)
    lines.push(`  - Why: ${code(check.reason, { max: 400 })}`);
  if (check.state === 'failed') {
    for (const m of check.failed)
      lines.push(`  - ${measured(m)} at ${new Date(m.at).toISOString().slice(11, 19)}`);
  }
  return lines;
}

/** `#### 🔬 Analysis` with each stage that measured something; empty without analysis. */
export function analysisSection(report: RolloutReport): string[] {
  const stages = report.stages.filter((s) => s.analysis?.length);
  if (stages.length === 0) return [];
  const lines = ['#### 🔬 Analysis'];
  for (const stage of stages) {
    lines.push('', `Stage ${stage.stage}:`, '', ...(stage.analysis ?? []).flatMap(checkLine));
  }
  return lines;
}

/** `#### 🪝 Hooks`: each hook and switchover as it ran, its answer as code; empty without any. */
export function hooksSection(report: RolloutReport): string[] {
  const hooks = report.hooks ?? [];
  if (hooks.length === 0) return [];
  return [
    '#### 🪝 Hooks',
    '',
    ...hooks.map((h: HookReport) => {
      const where = h.stage === undefined ? h.event : `${h.event}, stage ${h.stage}`;
      const state = h.state === 'passed' ? '✅' : '❌';
      return `- ${state} ${code(h.name)} (${where}): ${code(h.detail, { max: 200 })}`;
    }),
  ];
}
