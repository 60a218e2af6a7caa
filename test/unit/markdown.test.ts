import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  code,
  escapeMarkdown,
  fenced,
  formatElapsed,
  formatOrdinals,
  terminationMessageLimit,
} from '../../src/adapters/github/markdown/inline.ts';
import { renderReport } from '../../src/adapters/github/markdown/report.ts';
import type { RolloutReport, Verdict } from '../../src/engine/report.ts';
import { toHtml } from '../support/rendered.ts';

const t0 = Date.UTC(2025, 0, 2, 3, 4, 5);

function report(overrides: Partial<RolloutReport> = {}): RolloutReport {
  return {
    kind: 'rollout',
    context: 'kind-dev',
    namespace: 'shop',
    name: 'web',
    verdict: 'in-progress',
    replicas: 5,
    previousRevision: 'web-6d4f7b8c9',
    revision: 'web-7f8e9a0b1',
    images: [{ container: 'app', from: 'registry.local/app:1.0', to: 'registry.local/app:1.1' }],
    stages: [
      {
        stage: 1,
        partition: 4,
        ordinals: [4],
        updated: 1,
        state: 'passed',
        startedAt: t0,
        endedAt: t0 + 45_000,
      },
      {
        stage: 2,
        partition: 2,
        ordinals: [2, 3],
        updated: 2,
        state: 'soaking',
        startedAt: t0 + 45_000,
        endedAt: undefined,
      },
      {
        stage: 3,
        partition: 0,
        ordinals: [0, 1],
        updated: 0,
        state: 'pending',
        startedAt: undefined,
        endedAt: undefined,
      },
    ],
    failure: undefined,
    rollback: undefined,
    runUrl: 'https://github.com/acme/shop/actions/runs/42/attempts/1',
    startedAt: t0,
    updatedAt: t0 + 75_000,
    ...overrides,
  };
}

const hostile = [
  'a | b | c',
  'line one\nline two\r\n| --- | --- |',
  '```\n</code></pre><script>alert(1)</script>',
  '<!-- hidden --> <!-- statefulset-canary: kind-dev/shop/web -->',
  '<script>alert(document.cookie)</script>',
  '<img src=x onerror=alert(1)>',
  '[click me](javascript:alert(1))',
  '![pixel](https://evil.example/track.png)',
  'ping @octocat and @acme/admins, see #12',
  '**bold** _em_ ~~strike~~ `code` # heading',
  '&lt;script&gt; &amp; &#x3C;',
  'right-to-left \u202e gnp.exe and a NUL \u0000 byte',
  '$x^2$ and \\*escaped\\*',
  'bare https://evil.example/x, www.evil.example and mail admin@evil.example',
];

describe('escapeMarkdown', () => {
  for (const text of hostile) {
    it(`keeps ${JSON.stringify(text)} inert in a table cell`, () => {
      const html = toHtml(`| a | b |\n| --- | --- |\n| ${escapeMarkdown(text)} | x |\n`);
      assert.equal(html.match(/<tr>/g)?.length, 2, html);
      assert.equal(html.match(/<td>/g)?.length, 2, html);
      assert.doesNotMatch(html, /<(script|img|a|strong|em|del|code|h\d|br|!--)[\s>]/i, html);
      assert.doesNotMatch(html, /javascript:[^<]*"/, html);
    });
  }

  it('shows the text as written after rendering', () => {
    const text = 'a | b <c> & [d](e) `f` *g* @h';
    const html = toHtml(escapeMarkdown(text));
    const decoded = html
      .replace(/<\/?p>\n?/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/\u200b/g, '');
    assert.equal(decoded, text);
  });

  it('breaks @mentions and #references with a zero-width space', () => {
    assert.match(escapeMarkdown('@octocat'), /^@\u200boctocat$/);
    assert.match(escapeMarkdown('#12'), /^\\#\u200b12$/);
  });

  it('cuts very long text to the limit', () => {
    const out = escapeMarkdown('x'.repeat(100_000), 300);
    assert.equal(out.length, 300);
    assert.ok(out.endsWith('…'));
  });
});

describe('code', () => {
  it('shows an identifier as written, in a code span, with nothing escaped', () => {
    assert.equal(code('db-59744854fd'), '`db-59744854fd`');
    assert.equal(toHtml(code('shop/db-4')), '<p><code>shop/db-4</code></p>');
  });
  it('cannot be closed by backticks in the text, and keeps HTML, links and mentions inert', () => {
    const hostile = 'a`b``c <script>x</script> [l](javascript:x) @octocat https://evil.example';
    const html = toHtml(code(hostile));
    assert.equal(html.match(/<code>/g)?.length, 1, html);
    assert.doesNotMatch(html, /<script>|<a |@\w+<\/a>/, html);
  });
  it('keeps a table row whole in a cell, pipes and all', () => {
    const html = toHtml(`| a | b |\n| --- | --- |\n| ${code('x|y', { cell: true })} | z |\n`);
    assert.match(html, /<td><code>x\|y<\/code><\/td>\n<td>z<\/td>/, html);
  });
});

describe('fenced', () => {
  it('cannot be closed by backticks in the text', () => {
    const text = 'before\n```\n````\n<script>alert(1)</script>\n@octocat';
    const html = toHtml(`${fenced(text)}\n\n**after**`);
    assert.equal(html.match(/<pre>/g)?.length, 1, html);
    assert.doesNotMatch(html, /<script>/, html);
    assert.match(html, /<\/pre>\n<p><strong>after<\/strong><\/p>/, html);
  });

  it(`keeps at most ${terminationMessageLimit} characters`, () => {
    const block = fenced('y'.repeat(5000));
    assert.equal(block.match(/y/g)?.length, terminationMessageLimit - 1);
    assert.ok(block.includes('…'));
  });
});

describe('formatElapsed and formatOrdinals', () => {
  const durations: Array<[number, string]> = [
    [0, '0s'],
    [42_400, '42s'],
    [185_000, '3m 05s'],
    [3_720_000, '1h 02m'],
  ];
  for (const [ms, text] of durations)
    it(`formats ${ms} ms as ${text}`, () => assert.equal(formatElapsed(ms), text));

  const ordinals: Array<[number[], string]> = [
    [[4], '4'],
    [[3, 2], '2–3'],
    [[0, 1, 3], '0–1, 3'],
    [[], ''],
  ];
  for (const [list, text] of ordinals) {
    it(`formats ordinals ${JSON.stringify(list)} as "${text}"`, () =>
      assert.equal(formatOrdinals(list), text));
  }
});

describe('renderReport', () => {
  const verdicts: Array<[Verdict, string]> = [
    ['in-progress', '🔄 StatefulSet <code>shop/web</code>: rollout in progress'],
    ['succeeded', '✅ StatefulSet <code>shop/web</code>: rollout succeeded'],
    ['failed', '❌ StatefulSet <code>shop/web</code>: rollout failed'],
    ['halted', '⏸️ StatefulSet <code>shop/web</code>: rollout halted'],
    ['rolled-back', '↩️ StatefulSet <code>shop/web</code>: rolled back'],
    ['cancelled', '🚫 StatefulSet <code>shop/web</code>: rollout cancelled'],
    ['no-change', '⚪ StatefulSet <code>shop/web</code>: no change'],
    ['created', '🆕 StatefulSet <code>shop/web</code>: created'],
  ];
  for (const [verdict, text] of verdicts) {
    it(`headlines a ${verdict} rollout with its emoji`, () => {
      assert.ok(toHtml(renderReport(report({ verdict }))).includes(`<h3>${text}</h3>`));
    });
  }

  it('puts the marker first and shows revisions, images, stages, run link and update time', () => {
    const md = renderReport(report(), { marker: '<!-- statefulset-canary: kind-dev/shop/web -->' });
    assert.ok(md.startsWith('<!-- statefulset-canary: kind-dev/shop/web -->\n### 🔄'));
    const html = toHtml(md);
    assert.match(html, /<code>web-6d4f7b8c9<\/code> → <code>web-7f8e9a0b1<\/code>/);
    assert.match(
      html,
      /<code>registry\.local\/app:1\.0<\/code><\/td>\n<td><code>registry\.local\/app:1\.1<\/code>/,
    );
    assert.match(
      html,
      /<td>1 \(ordinal 4\)<\/td>\n<td align="right">4<\/td>\n<td align="right">1\/5<\/td>\n<td>✅ passed<\/td>\n<td align="right">45s<\/td>/,
    );
    assert.match(
      html,
      /<td>2 \(ordinals 2–3\)<\/td>[\s\S]*?<td>⏳ soaking<\/td>\n<td align="right">30s<\/td>/,
    );
    assert.match(html, /<td>⚪ pending<\/td>\n<td align="right">—<\/td>/);
    assert.match(
      html,
      /<a href="https:\/\/github\.com\/acme\/shop\/actions\/runs\/42\/attempts\/1">Workflow run<\/a>/,
    );
    assert.match(html, /Last updated 2025-01-02T03:05:20\.000Z/);
  });

  it('renders a failure with a hostile termination message inert', () => {
    const terminationMessage = `panic: boom\n\`\`\`\n<!-- x --><script>alert(1)</script>\n[x](javascript:alert(1)) @octocat\n${'z'.repeat(3000)}`;
    const md = renderReport(
      report({
        verdict: 'failed',
        failure: {
          stage: 1,
          pod: 'web-4',
          container: 'app|<b>',
          reason: 'CrashLoopBackOff',
          message: 'pod web-4 container app is in CrashLoopBackOff at stage 1',
          terminationMessage,
        },
      }),
    );
    const html = toHtml(md);
    assert.doesNotMatch(html, /<script>|<b>|<a href="javascript|<!-- x/, html);
    assert.match(html, /<strong>Reason:<\/strong> <code>CrashLoopBackOff<\/code>/);
    assert.match(html, /Last termination message \(first 1000 characters\):/);
    assert.match(html, /<pre><code class="language-text">panic: boom\n```\n&lt;!-- x --&gt;&lt;script&gt;/);
    assert.ok(md.length < 6000, `report is ${md.length} characters`);
  });

  it('renders crash logs with backticks and HTML inert, bounded, and the line for a log it could not read', () => {
    const hostileLog = [
      'panic: boom ```',
      '```` </code></pre><script>alert(1)</script>',
      '<!-- x --> [x](javascript:alert(1)) @octocat #12',
    ];
    const md = renderReport(
      report({
        verdict: 'failed',
        failure: {
          stage: 1,
          pod: 'web-4',
          container: 'app',
          reason: 'CrashLoopBackOff',
          message: 'pod web-4 container app is in CrashLoopBackOff at stage 1',
          terminationMessage: undefined,
          crashLogs: [
            { pod: 'web-4', container: 'app', previous: true, lines: hostileLog, cut: true, note: undefined },
            {
              pod: 'web-3',
              container: 'app',
              previous: true,
              lines: [],
              cut: false,
              note: 'could not read its log (forbidden): the RBAC rule pods/log get adds it',
            },
          ],
        },
      }),
    );
    // The fence is longer than any run of backticks in the log: the log cannot close it.
    assert.ok(md.includes(`\`\`\`\`\`text\n${hostileLog.join('\n')}\n\`\`\`\`\``), md);
    const html = toHtml(md);
    assert.doesNotMatch(html, /<script>|<a href="javascript|<!-- x/, html);
    assert.match(
      html,
      /Last 3 log lines of <code>web-4<\/code>, container <code>app<\/code> \(previous instance\), cut at 8192 bytes:/,
    );
    assert.match(
      html,
      /<pre><code class="language-text">panic: boom ```\n```` &lt;\/code&gt;&lt;\/pre&gt;&lt;script&gt;/,
    );
    assert.match(
      html,
      /Log of <code>web-3<\/code>, container <code>app<\/code> \(previous instance\): could not read its log \(forbidden\): the RBAC rule pods\/log get adds it/,
    );
  });

  it('keeps a crash log block within its bounds however long its lines', () => {
    const lines = Array.from({ length: 20 }, () => 'z'.repeat(240));
    const failure = {
      stage: 1,
      pod: 'web-4',
      container: 'app',
      reason: 'CrashLoopBackOff',
      message: 'm',
      terminationMessage: undefined,
      crashLogs: [0, 1, 2].map((i) => ({
        pod: `web-${i}`,
        container: 'app',
        previous: true,
        lines,
        cut: false,
        note: undefined,
      })),
    };
    const md = renderReport(report({ verdict: 'failed', failure }));
    assert.equal(md.match(/z/g)?.length, 3 * 20 * 240, 'every line shown, none longer');
    assert.ok(md.length < 18_000, `report is ${md.length} characters`);
  });

  it('renders a rollback section naming the deleted pods', () => {
    const html = toHtml(
      renderReport(
        report({
          verdict: 'rolled-back',
          rollback: {
            reason: 'stage 1 failed',
            toRevision: 'web-6d4f7b8c9',
            state: 'succeeded',
            deletedPods: ['web-4'],
          },
        }),
      ),
    );
    assert.match(html, /<h4>↩️ Rollback<\/h4>/);
    assert.match(html, /<strong>State:<\/strong> ✅ succeeded/);
    assert.match(html, /<strong>Pods deleted to unstick the controller:<\/strong> <code>web-4<\/code>/);
  });

  it('says what a paused rollout paused and how to go on', () => {
    const md = renderReport(report({ verdict: 'paused' }));
    const html = toHtml(md);
    assert.match(html, /<h4>⏯️ Paused<\/h4>/);
    assert.match(html, /is paused after stage 1 of 3, with 1\/5 pods on the new revision \(partition 4\)/);
    assert.match(html, /<code>\/canary promote<\/code>/);
    assert.match(html, /<code>command: abort<\/code>/);
    assert.doesNotMatch(toHtml(renderReport(report({ verdict: 'succeeded' }))), /Paused/);
  });

  it('prints a run URL that is not http(s) as text, not a link', () => {
    const html = toHtml(renderReport(report({ runUrl: 'javascript:alert(1)' })));
    const section = html.slice(html.indexOf('Analysis'), html.indexOf('<p><sub>'));
    assert.doesNotMatch(section, /<a |<img|<\/?details/, section);
  });
});

describe('the analysis section', () => {
  const hostile = '</details><img src=x onerror=alert(1)> @octocat ``` [x](javascript:alert(1)) #1';
  const failedCheck = {
    name: 'error-rate',
    kind: 'prometheus' as const,
    dryRun: false,
    state: 'failed' as const,
    threshold: '<= 0.01',
    rounds: 1,
    of: 3,
    failures: 1,
    errors: 0,
    last: { check: 'error-rate', subject: 'web-4', value: hostile, verdict: 'fail' as const, at: t0 },
    failed: [{ check: 'error-rate', subject: 'web-4', value: '0.5', verdict: 'fail' as const, at: t0 }],
    reason: `1 failed measurement ${hostile}`,
  };
  const withAnalysis = (analysis: RolloutReport['stages'][number]['analysis']) => {
    const base = report();
    const [first, ...rest] = base.stages;
    assert.ok(first);
    return report({ stages: [{ ...first, analysis }, ...rest] });
  };

  it('shows each check of a stage on one line, and a failed one with why and what failed', () => {
    const markdown = renderReport(withAnalysis([failedCheck]));
    assert.match(
      markdown,
      /#### 🔬 Analysis\n\nStage 1:\n\n- `error-rate` \(prometheus\): ❌ failed · 1\/3 rounds · last /,
    );
    assert.match(markdown, /threshold `<= 0\.01` · 1 failed\n {2}- Why: /);
    assert.match(markdown, /\n {2}- `web-4: 0\.5` at 03:04:05/);
  });

  it('keeps values from pods and Prometheus inert', () => {
    const html = toHtml(renderReport(withAnalysis([failedCheck])));
    assert.doesNotMatch(html, /<img|<\/details>|href="javascript/i);
    const section = html.slice(html.indexOf('Analysis'), html.indexOf('<p><sub>'));
    assert.doesNotMatch(section, /<a |<img|<\/?details/, section);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('marks a failed dry-run check as not gating, and leaves the section out without checks', () => {
    const markdown = renderReport(withAnalysis([{ ...failedCheck, dryRun: true }]));
    assert.match(markdown, /`error-rate` \(prometheus\): ⚠️ failed \(dry run: not gating\)/);
    assert.doesNotMatch(renderReport(report()), /Analysis/);
  });

  it('names a before-check and its rounds in a row, and keeps hostile exec output inert', () => {
    const before = {
      ...failedCheck,
      name: 'in-sync',
      kind: 'exec' as const,
      when: 'before' as const,
      threshold: 'exit 0, $.lagSeconds <= 5',
      rounds: 4,
      of: 2,
    };
    const markdown = renderReport(withAnalysis([before]));
    assert.match(
      markdown,
      /- `in-sync` \(exec, before the stage\): ❌ failed · 4 rounds, 2 in a row to pass · last /,
    );
    const html = toHtml(markdown);
    assert.doesNotMatch(
      html.slice(html.indexOf('Analysis'), html.indexOf('<p><sub>')),
      /<a |<img|<\/?details/,
    );
  });
});

describe('the hooks section', () => {
  it('lists each hook and switchover with its stage and answer as code, and is left out without hooks', () => {
    const hostile = '</details><img src=x onerror=alert(1)> [x](javascript:alert(1))';
    const markdown = renderReport(
      report({
        hooks: [
          {
            name: 'switchover',
            event: 'switchover',
            stage: 2,
            state: 'passed',
            detail: 'web-2: exit 0: done',
            at: t0,
          },
          {
            name: 'notify',
            event: 'after-rollout',
            stage: undefined,
            state: 'failed',
            detail: hostile,
            at: t0,
          },
        ],
      }),
    );
    assert.match(
      markdown,
      /#### 🪝 Hooks\n\n- ✅ `switchover` \(switchover, stage 2\): `web-2: exit 0: done`\n- ❌ `notify` \(after-rollout\): `/,
    );
    const html = toHtml(markdown);
    assert.doesNotMatch(html.slice(html.indexOf('Hooks'), html.indexOf('<p><sub>')), /<a |<img|<\/?details/);
    assert.doesNotMatch(renderReport(report()), /Hooks/);
  });
});
