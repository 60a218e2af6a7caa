// The job summary: one section per StatefulSet for a run of one, the fleet view (the same as the
// fleet comment, without its marker) for a run of several StatefulSets or contexts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { jobSummaryReporter } from '../../src/adapters/actions/job-summary.ts';
import { memberKey } from '../../src/engine/fleet.ts';
import { finalReports, memberReport, twelve } from '../support/github/fleet.ts';

// @actions/core learns the summary's path once: one file for the whole file, emptied per test.
const file = join(mkdtempSync(join(tmpdir(), 'summary-')), 'summary.md');

describe('the job summary', () => {
  beforeEach(() => {
    writeFileSync(file, '');
    process.env.GITHUB_STEP_SUMMARY = file;
  });
  afterEach(() => {
    delete process.env.GITHUB_STEP_SUMMARY;
  });

  it('shows a fleet run as one view: every member in the table, failures first', async () => {
    const summary = jobSummaryReporter();
    summary.fleet?.(twelve);
    for (const report of finalReports().values()) await summary.update(report);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^### ❌ rollout failed: 12 StatefulSets, 3 waves, 2 clusters$/m);
    assert.doesNotMatch(text, /<!-- statefulset-canary/);
    assert.equal(text.split('\n').filter((l) => /^\| .* \| `(staging|eu-1)` \|/.test(l)).length, 12);
    assert.match(text, /\| `staging` \| `shop\/search` \| — \| ⏹️ not rolled out \|/);
  });

  it('keeps one section per StatefulSet for a run of one', async () => {
    const [m] = twelve.waves[0]?.members ?? [];
    assert.ok(m);
    const summary = jobSummaryReporter();
    summary.fleet?.({ waves: [{ index: 0, name: 'wave 1', members: [m] }] });
    await summary.update(memberReport(m, 6));
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^### ✅ StatefulSet `shop\/zookeeper`: rollout succeeded$/m);
    assert.doesNotMatch(text, /\| Wave \|/);
    assert.equal(memberKey(m), 'staging/shop/zookeeper');
  });
});
