// The plan comment (issue 16) rendered as GitHub would: every value from the manifests or the
// cluster stays inert (no HTML, links, mentions, headings or broken tables), the diff stays in
// its fence whatever backticks it holds, and a refusal, no change and a fork read as such.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GitHubRunContext } from '../../src/adapters/github/context.ts';
import { forkOf, planCannotRun } from '../../src/adapters/github/fork.ts';
import {
  renderPlan,
  renderPlanSkipped,
  renderStatefulSetPlan,
} from '../../src/adapters/github/markdown/plan.ts';
import { plansOnPullRequest } from '../../src/adapters/github/plan-comment.ts';
import type { PlanReport, StatefulSetPlan } from '../../src/engine/plan-report.ts';
import { toHtml } from '../support/rendered.ts';

const evil =
  '`` </code></pre><script>alert(1)</script> [x](javascript:alert(1)) @octocat #1 | ** https://evil.example';

function sts(overrides: Partial<StatefulSetPlan> = {}): StatefulSetPlan {
  return {
    namespace: 'shop',
    name: 'db',
    kind: 'change',
    replicas: 5,
    images: [{ container: 'app', from: 'registry.local/db:v1', to: 'registry.local/db:v2' }],
    templateDiff:
      '--- live\n+++ manifests\n@@ -1,3 +1,3 @@\n spec:\n-  image: registry.local/db:v1\n+  image: registry.local/db:v2',
    specChanges: [],
    stages: [
      { stage: 1, partition: 4, ordinals: [4] },
      { stage: 2, partition: 2, ordinals: [3, 2] },
      { stage: 3, partition: 0, ordinals: [1, 0] },
    ],
    soakMs: 30_000,
    analysis: [],
    pauseAfter: [],
    maxUnavailable: undefined,
    warnings: [],
    ...overrides,
  };
}

const plan = (overrides: Partial<PlanReport> = {}): PlanReport => ({
  context: 'kind-dev',
  refusal: undefined,
  targets: ['shop/db'],
  statefulSets: [sts()],
  others: [{ object: 'ConfigMap shop/db-config', change: 'changed' }],
  ...overrides,
});

describe('the plan comment of a StatefulSet', () => {
  it('shows the images, the template diff, the stages, soak, pauses and maxUnavailable', () => {
    const md = renderStatefulSetPlan(plan(), 'shop/db', { marker: '<!-- m -->', commit: 'abcdef0123456789' });
    assert.ok(
      md.startsWith(
        '<!-- m -->\n### Plan for StatefulSet `shop/db`: 📋 staged rollout: 5 of 5 pods restart in 3 stages',
      ),
      md,
    );
    const html = toHtml(md);
    assert.match(
      html,
      /<td><code>registry.local\/db:v1<\/code><\/td>\n<td><code>registry.local\/db:v2<\/code><\/td>/,
    );
    assert.match(html, /<pre><code class="language-diff">--- live\n\+\+\+ manifests/);
    assert.match(
      html,
      /<td align="right">4<\/td>\n<td><code>db-4<\/code><\/td>\n<td align="right">1\/5<\/td>/,
    );
    assert.match(html, /<td><code>db-3<\/code>, <code>db-2<\/code><\/td>\n<td align="right">3\/5<\/td>/);
    assert.match(
      md,
      /\*\*Soak:\*\* 30s per stage .* \*\*Pauses:\*\* none · \*\*maxUnavailable:\*\* at most 1 pod down at once/,
    );
    assert.match(html, /<td><code>ConfigMap shop\/db-config<\/code><\/td>\n<td>changed<\/td>/);
    assert.match(md, /Planned for commit `abcdef012345`/);
  });

  it('says "no change" when the template equals the live one, and restarts nothing', () => {
    const md = renderStatefulSetPlan(
      plan({ statefulSets: [sts({ kind: 'no-change', images: [], templateDiff: '', stages: [] })] }),
      'shop/db',
    );
    assert.match(md, /⚪ no change/);
    assert.match(
      md,
      /\*\*No change:\*\* the pod template in the manifests equals the live one; no pod restarts\./,
    );
    assert.doesNotMatch(md, /Stages/);
  });

  it('shows a refusal prominently, in every StatefulSet comment', () => {
    const refused = plan({
      refusal:
        'StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields other than ...',
      statefulSets: [],
      others: [],
    });
    const html = toHtml(renderStatefulSetPlan(refused, 'shop/db'));
    assert.match(
      html,
      /<h3>❌ Plan for StatefulSet <code>shop\/db<\/code>: the change would be refused<\/h3>/,
    );
    assert.match(
      html,
      /<blockquote>\n<p>\[!CAUTION\]\n<strong>The API server refuses these manifests:<\/strong>/,
    );
    assert.match(html, /<p><code>StatefulSet.apps &quot;db&quot; is invalid: spec: Forbidden/);
    assert.match(renderPlan(refused), /the change would be refused/);
  });

  it('keeps hostile values from the manifests and the cluster inert', () => {
    const valued = (v: string) =>
      plan({
        context: v,
        targets: [`${v}/${v}`],
        statefulSets: [
          sts({
            namespace: v,
            name: v,
            images: [{ container: v, from: v, to: v }],
            templateDiff: `+ ${v}\n${v === 'x' ? 'x' : '````\n</pre><script>alert(2)</script>\n@octocat'}`,
            specChanges: [{ field: `spec.${v}`, from: v, to: v }],
            warnings: [{ what: v, fix: v }],
            maxUnavailable: v,
          }),
        ],
        others: [{ object: v, change: 'created' }],
      });
    const renders = (p: PlanReport) => [
      toHtml(renderStatefulSetPlan(p, `${p.context}/${p.context}`)),
      toHtml(renderPlan(p)),
    ];
    const tags = (html: string) =>
      ['strong', 'em', 'del', 'h3', 'h4', 'a', 'img', 'script', 'pre', 'table', 'tr', 'td', 'li', 'br'].map(
        (tag) => `${tag}: ${html.match(new RegExp(`<${tag}[ >]`, 'g'))?.length ?? 0}`,
      );
    const benign = renders(valued('x'));
    for (const [i, html] of renders(valued(evil)).entries()) {
      // The same structure as with harmless values: no element a value brought in, no cell added.
      assert.deepEqual(tags(html), tags(benign[i] ?? ''), html);
      assert.doesNotMatch(html, /<script|<a |href=/i);
      assert.doesNotMatch(html, /@octocat<\/a>|https:\/\/evil\.example<\/a>/);
      assert.equal(html.match(/<pre>/g)?.length, 1, 'the diff stays one block whatever backticks it holds');
    }
  });

  it('the note of a skipped plan is inert too', () => {
    const html = toHtml(renderPlanSkipped(evil));
    assert.doesNotMatch(html, /<script|<a |<code>/i);
  });
});

const run = (eventName: string, payload: Record<string, unknown>): GitHubRunContext => ({
  eventName,
  payload,
  repository: { owner: 'acme', repo: 'shop' },
  sha: undefined,
  ref: undefined,
  serverUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
  runId: undefined,
  runAttempt: undefined,
  runUrl: undefined,
  problems: [],
});
const pr = (head: string | null) => ({
  number: 7,
  pull_request: {
    number: 7,
    head: { repo: head === null ? null : { full_name: head } },
    base: { repo: { full_name: 'acme/shop' } },
  },
});

describe('a plan on a pull request from a fork', () => {
  it('is recognised from the payload: head repository other than the base, or deleted', () => {
    assert.equal(forkOf(run('pull_request', pr('mallory/shop'))), 'mallory/shop');
    assert.equal(forkOf(run('pull_request', pr(null))), '(a deleted fork)');
    assert.equal(forkOf(run('pull_request', pr('acme/shop'))), undefined);
    assert.equal(forkOf(run('pull_request', pr('ACME/Shop'))), undefined);
    // pull_request_target runs have secrets: not the case this is for.
    assert.equal(forkOf(run('pull_request_target', pr('mallory/shop'))), undefined);
  });

  it('cannot run, and says why; only the plan, only on pull_request runs', () => {
    assert.match(
      planCannotRun('plan', '', run('pull_request', pr('mallory/shop'))) ?? '',
      /^this pull request comes from the fork mallory\/shop, and GitHub gives pull_request runs from forks no secrets/,
    );
    assert.equal(planCannotRun('rollout', '', run('pull_request', pr('mallory/shop'))), undefined);
    assert.equal(planCannotRun('plan', '', run('push', {})), undefined);
    assert.equal(planCannotRun('plan', '', run('pull_request', pr('acme/shop'))), undefined);
  });

  it('cannot run without a kubeconfig on a pull_request run (Dependabot), and can when one was given', () => {
    const missing = new Error('no kubeconfig found');
    assert.match(
      planCannotRun('plan', '', run('pull_request', pr('acme/shop')), missing) ?? '',
      /the kubeconfig input is empty .*Dependabot pull requests get only Dependabot secrets/,
    );
    // A kubeconfig that was given but is broken is an error of the workflow: the step fails.
    assert.equal(
      planCannotRun('plan', 'apiVersion: v1', run('pull_request', pr('acme/shop')), missing),
      undefined,
    );
  });
});

describe('where a plan is commented', () => {
  it('on the pull request of a pull request run or the pull-request input, never on a push', () => {
    assert.equal(plansOnPullRequest(run('pull_request', pr('acme/shop')), undefined), true);
    assert.equal(plansOnPullRequest(run('issue_comment', {}), undefined), true);
    assert.equal(plansOnPullRequest(run('push', {}), undefined), false, 'the merged pull requests are done');
    assert.equal(plansOnPullRequest(run('schedule', {}), undefined), false);
    assert.equal(plansOnPullRequest(run('workflow_dispatch', {}), 12), true);
  });
});

describe('the plan of analysis checks', () => {
  it('lists each check under the stages, inert', () => {
    const analysis = [
      'healthz: GET port http/healthz through the pod proxy, status 2xx; 3 × 5s, every stage',
      evil,
    ];
    const markdown = renderStatefulSetPlan(plan({ statefulSets: [sts({ analysis })] }), 'shop/db');
    assert.match(
      markdown,
      /\*\*Analysis\*\* \(each stage passes only when these pass too\):\n\n- `healthz: GET port http\/healthz through the pod proxy, status 2xx; 3 × 5s, every stage`\n/,
    );
    const html = toHtml(markdown);
    assert.doesNotMatch(html, /<script|href="javascript|<a /);
    assert.doesNotMatch(renderStatefulSetPlan(plan(), 'shop/db'), /Analysis/);
  });
});

describe('the plan of a fleet', () => {
  const order = [
    { name: 'staging: coordination', members: ['staging/shop/zk'] },
    { name: `eu-1: ${evil}`, members: ['eu-1/shop/db', 'eu-1/shop/cache'] },
  ];
  it('Lists the waves in order, each with its members; without waves or clusters, no order', () => {
    const html = toHtml(renderPlan(plan({ order })));
    assert.match(html, /<h4>Order<\/h4>/);
    assert.match(html, /<ol>\s*<li>staging: coordination: <code>staging\/shop\/zk<\/code><\/li>/);
    assert.match(html, /<code>eu-1\/shop\/db<\/code>, <code>eu-1\/shop\/cache<\/code>/);
    assert.doesNotMatch(html, /<script>|href="javascript/);
    assert.doesNotMatch(toHtml(renderPlan(plan())), /Order/);
  });
});
