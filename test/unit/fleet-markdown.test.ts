// The fleet view (one comment for a run of more than one StatefulSet or context): a table of
// every member with its stage or why it has none, failures first, each member's details
// collapsed, and the whole kept under GitHub's comment limit by cutting the least important
// details first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clampBody, commentMarker, fleetMarker } from '../../src/adapters/github/comment.ts';
import { renderFleet } from '../../src/adapters/github/markdown/fleet.ts';
import { type Fleet, memberKey } from '../../src/engine/fleet.ts';
import type { RolloutReport } from '../../src/engine/report.ts';
import { crashFailure, failedAtCanary, finalReports, memberReport, twelve } from '../support/github/fleet.ts';

/** The table row of `context` · `namespace/name`. */
const row = (body: string, context: string, name: string) =>
  body.split('\n').find((l) => l.startsWith('|') && l.includes(`| \`${context}\` | \`shop/${name}\` |`)) ??
  '';

const sections = (body: string) => body.split('<details>').slice(1);

describe('the fleet view', () => {
  it('puts its marker on the first line, distinct from every StatefulSet marker', () => {
    const body = renderFleet(twelve, finalReports(), { marker: fleetMarker(twelve), ended: true });
    assert.equal(body.split('\n')[0], fleetMarker(twelve));
    for (const wave of twelve.waves)
      for (const m of wave.members)
        assert.notEqual(fleetMarker(twelve), commentMarker(m.context, m.namespace, m.name));
    const other: Fleet = { waves: [{ index: 0, name: 'wave 1', members: twelve.waves[0]?.members ?? [] }] };
    assert.notEqual(fleetMarker(other), fleetMarker(twelve), 'another fleet has its own comment');
  });

  it('shows every member: its stage and verdict, waiting before it starts, not rolled out after a failure', () => {
    const reports = finalReports();
    const body = renderFleet(twelve, reports, {});
    assert.match(row(body, 'staging', 'kafka'), /3\/3 ✅ passed · 5\/5 pods \| ✅ rollout succeeded \|$/);
    assert.match(row(body, 'eu-1', 'kafka'), /1\/3 ❌ failed · 1\/5 pods \| ❌ rollout failed \|$/);
    assert.match(row(body, 'eu-1', 'zookeeper'), /↩️ rolled back \|$/);
    assert.match(
      row(body, 'eu-1', 'search'),
      /⏹️ not rolled out \|$/,
      'wave 3 never starts after wave 2 failed',
    );
    // While the first wave is under way, the later waves wait.
    const early = new Map(
      [...reports].filter(([key]) => key.startsWith('staging/') && key.endsWith('/kafka')),
    );
    early.set(
      'staging/shop/kafka',
      memberReport({ context: 'staging', namespace: 'shop', name: 'kafka' }, 2),
    );
    const during = renderFleet(twelve, early, {});
    assert.match(
      row(during, 'staging', 'kafka'),
      /2\/3 🔄 progressing · 1\/5 pods \| 🔄 rollout in progress \|$/,
    );
    assert.match(row(during, 'eu-1', 'search'), /⚪ waiting \|$/);
    assert.match(during, /^### 🔄 rollout in progress: 12 StatefulSets, 3 waves, 2 clusters$/m);
    // Once the run has ended, a member that never reported was not rolled out.
    assert.match(row(renderFleet(twelve, early, { ended: true }), 'eu-1', 'search'), /⏹️ not rolled out \|$/);
  });

  it('lists the failures before the table, and their details before those that succeeded', () => {
    const body = renderFleet(twelve, finalReports(), { ended: true });
    assert.match(body, /^### ❌ rollout failed: 12 StatefulSets, 3 waves, 2 clusters$/m);
    assert.ok(body.indexOf('#### Failures') < body.indexOf('| Wave |'));
    const order = sections(body).map((s) =>
      /<code>([^<]+)<\/code> · <code>shop\/([^<]+)<\/code>/.exec(s)?.slice(1).join('/'),
    );
    assert.deepEqual(order.slice(0, 3), ['eu-1/kafka', 'eu-1/postgres', 'eu-1/zookeeper']);
    assert.equal(order.length, 8, 'one section a reported member, none for those not rolled out');
    assert.match(body, /❌ rollout failed, `eu-1` · `shop\/kafka` \(wave 2\) at stage 1: `CrashLoopBackOff`/);
  });

  it('escapes names and wave names from the manifests and inputs', () => {
    const hostile: Fleet = {
      waves: [
        {
          index: 0,
          name: '<img src=x> @team #12',
          members: [
            { context: 'ctx</code><b>@admin</b>', namespace: 'shop', name: 'a' },
            { context: 'ctx', namespace: 'shop', name: 'b|c' },
          ],
        },
      ],
    };
    const m = hostile.waves[0]?.members[0];
    assert.ok(m);
    const reports = new Map([[memberKey(m), memberReport(m, 6)]]);
    const body = renderFleet(hostile, reports, {});
    assert.doesNotMatch(body, /<img|@team|#12/);
    assert.match(body, /\| `ctx<\/code><b>@admin<\/b>` \|/, 'in the table, a code span: inert');
    assert.match(body, /<code>ctx&lt;\/code&gt;&lt;b&gt;@\u200badmin&lt;\/b&gt;<\/code>/);
    assert.match(body, /`shop\/b\\\|c`/, 'a pipe in a name does not break the table');
  });

  it('stays under GitHub’s limit with hundreds of members and thousands of log lines, cutting the succeeded details first', () => {
    const waves = Array.from({ length: 3 }, (_, w) => ({
      index: w,
      name: `wave ${w + 1}`,
      members: Array.from({ length: 100 }, (_, i) => ({
        context: `cluster-${w}`,
        namespace: 'shop',
        name: `set-${i}`,
      })),
    }));
    const fleet: Fleet = { waves };
    const reports = new Map<string, RolloutReport>();
    for (const wave of waves)
      for (const [i, m] of wave.members.entries()) {
        const failed = wave.index === 1 && i < 5;
        const long = { message: 'x'.repeat(5000) } as const;
        const report = failed
          ? failedAtCanary(memberReport(m, 1), { ...crashFailure(`${m.name}-4`, 20, 240), ...long })
          : memberReport(m, wave.index === 0 ? 6 : 3);
        reports.set(memberKey(m), report);
      }
    const body = renderFleet(fleet, reports, { marker: fleetMarker(fleet) });
    assert.ok(body.length <= 65_000, String(body.length));
    assert.ok(body.isWellFormed());
    const rows = body.split('\n').filter((l) => /^\| (\*\*\d\.\*\*.*)? \| `cluster-/.test(l));
    assert.equal(rows.length, 300, 'the table is whole');
    const shown = sections(body);
    const failedShown = shown.filter((s) => s.startsWith('<summary>❌'));
    assert.equal(failedShown.length, 5, 'every failed member keeps its details');
    assert.ok(
      failedShown.every((s) => s.includes('Last 20 log lines')),
      'with its crash log',
    );
    assert.ok(!shown.some((s) => s.startsWith('<summary>✅')), 'succeeded details go first');
    assert.match(body, /Details of \d+ StatefulSets left out to fit the size limit/);
    assert.equal(clampBody(body), body, 'the last resort had nothing to cut');
  });

  it('cuts the details of one huge failure rather than leaving them out', () => {
    const [m] = twelve.waves[0]?.members ?? [];
    const [n] = twelve.waves[1]?.members ?? [];
    assert.ok(m && n);
    const huge = failedAtCanary(memberReport(m, 1), {
      ...crashFailure('zookeeper-4'),
      diagnosis: Array.from({ length: 400 }, (_, i) => `pod zookeeper-${i}: ${'y'.repeat(900)}`),
    });
    const reports = new Map([
      [memberKey(m), huge],
      [memberKey(n), memberReport(n, 6)],
    ]);
    const body = renderFleet(twelve, reports, { max: 20_000 });
    assert.ok(body.length <= 20_000, String(body.length));
    const [first] = sections(body);
    assert.match(first ?? '', /^<summary>❌[\s\S]*cut to fit GitHub's comment size limit[\s\S]*<\/details>/);
    assert.match(body, /Details of 1 StatefulSet left out/);
  });
});
