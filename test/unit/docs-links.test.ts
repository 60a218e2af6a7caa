// Every relative link in the README, CONTRIBUTING.md and docs/ leads somewhere: the file (or
// folder) exists, and a `#anchor` names a heading of the page it points at, as GitHub slugs
// headings. The docs pages that action.yml and the code's messages send users to exist too.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';

/** The Markdown files whose links are checked. */
const markdownFiles = (): string[] => [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join('docs', f)),
];

/** The text outside fenced code blocks, so a `#` or a `](` in a code sample is not read as Markdown. */
function prose(markdown: string): string {
  let fence: string | undefined;
  const kept: string[] = [];
  for (const line of markdown.split('\n')) {
    const opening = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && opening !== undefined) fence = opening;
    else if (fence !== undefined && line.trim().startsWith(fence)) fence = undefined;
    else if (fence === undefined) kept.push(line);
  }
  return kept.join('\n');
}

/**
 * A heading's anchor as GitHub makes it: the text as rendered (links become their text, code
 * spans their code), lower-cased, every character that is not a letter, mark, number, `_`,
 * `-` or space dropped, and spaces turned into `-`. "Permissions in the cluster (RBAC)" is
 * `permissions-in-the-cluster-rbac`, "One deployment per run: the job's or the action's" is
 * `one-deployment-per-run-the-jobs-or-the-actions`.
 */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page's headings; a repeated heading gets `-1`, `-2`, ... as on GitHub. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, text] of prose(markdown).matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/gm)) {
    const base = slug(text ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** The link targets of a page: inline links and images, and reference definitions; code is skipped. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown).replace(/(`+)[\s\S]*?\1/g, '');
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? '');
  const references = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$/gm)].map((m) => m[1] ?? '');
  return [...inline, ...references];
}

/** Why a link of `file` does not resolve, or undefined when it does (or is not a relative link). */
function brokenLink(file: string, target: string): string | undefined {
  if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const [path = '', anchor] = target.split('#', 2);
  const resolved = path === '' ? file : normalize(join(dirname(file), decodeURI(path)));
  if (!existsSync(resolved)) return `${file}: ${target}: ${resolved} does not exist`;
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md'))
    return `${file}: ${target}: an anchor into ${resolved}, which is not a Markdown page`;
  const known = anchors(readFileSync(resolved, 'utf8'));
  return known.has(anchor)
    ? undefined
    : `${file}: ${target}: no heading of ${resolved} has the anchor #${anchor}`;
}

describe('the links of the README, CONTRIBUTING.md and docs/', () => {
  const files = markdownFiles();

  it('are checked in every page, docs/ included', () => {
    assert.ok(files.includes('docs/architecture.md') && files.length >= 10, files.join(', '));
    const links = files.flatMap((f) => linkTargets(readFileSync(f, 'utf8')));
    assert.ok(links.filter((t) => !t.includes(':')).length > 50, `${links.length} links found`);
  });

  for (const file of files) {
    it(`all resolve in ${file}`, () => {
      const targets = linkTargets(readFileSync(file, 'utf8'));
      const broken = targets.map((t) => brokenLink(file, t)).filter((b) => b !== undefined);
      assert.deepEqual(broken, []);
    });
  }

  it('reach every docs page from the README', () => {
    const fromReadme = new Set(
      linkTargets(readFileSync('README.md', 'utf8')).map((t) => normalize(t.split('#')[0] ?? '')),
    );
    for (const page of files.filter((f) => f.startsWith('docs/')))
      assert.ok(fromReadme.has(page), `README.md does not link ${page}`);
  });
});

describe('the link check itself', () => {
  it('slugs headings as GitHub does', () => {
    assert.equal(slug('Permissions in the cluster (RBAC)'), 'permissions-in-the-cluster-rbac');
    assert.equal(
      slug("One deployment per run: the job's or the action's"),
      'one-deployment-per-run-the-jobs-or-the-actions',
    );
    assert.equal(slug('Analysis: HTTP and Prometheus checks'), 'analysis-http-and-prometheus-checks');
    assert.equal(slug('`command: plan` on [forks](x.md)'), 'command-plan-on-forks');
    assert.equal(slug('🔬 Analysis'), '-analysis');
    assert.deepEqual([...anchors('# A\n## A\n```\n# not a heading\n```\n### A ##\n')], ['a', 'a-1', 'a-2']);
  });

  it('finds links outside code only, and refuses a missing file, a missing anchor and an anchor into a non-page', () => {
    assert.deepEqual(
      linkTargets('[a](x.md#y "t") `[b](code.md)`\n```\n[c](fenced.md)\n```\n[d]: <ref.md>\n'),
      ['x.md#y', 'ref.md'],
    );
    assert.equal(brokenLink('README.md', 'docs/plan.md'), undefined);
    assert.equal(brokenLink('docs/plan.md', '../README.md#inputs'), undefined);
    assert.equal(brokenLink('docs/plan.md', 'https://example.com/#nowhere'), undefined);
    assert.match(
      brokenLink('README.md', 'docs/no-such-page.md') ?? '',
      /docs\/no-such-page\.md does not exist/,
    );
    assert.match(
      brokenLink('docs/plan.md', '../README.md#no-such-heading') ?? '',
      /no heading of README\.md/,
    );
    assert.match(brokenLink('README.md', '#no-such-heading') ?? '', /no heading of README\.md/);
    assert.match(brokenLink('README.md', 'examples/rbac.yaml#x') ?? '', /not a Markdown page/);
  });
});

describe('the docs pages that action.yml and the code name', () => {
  const sources = [
    'action.yml',
    ...readdirSync('src', { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join('src', f)),
  ];
  const named = sources.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/\bdocs\/[\w-]+\.md\b/g)].map((m) => ({ file, page: m[0] })),
  );

  it('exist', () => {
    assert.ok(
      named.some((n) => n.file === 'action.yml'),
      'action.yml names its docs pages',
    );
    for (const { file, page } of named)
      assert.ok(existsSync(page), `${file} names ${page}, which does not exist`);
  });

  it('replace the README sections that moved: nothing points users at a README section that is gone', () => {
    const readme = anchors(readFileSync('README.md', 'utf8'));
    for (const file of sources) {
      for (const [, section] of readFileSync(file, 'utf8').matchAll(
        /README(?:'s|:)? "?([A-Z][\w ]+?)"? (?:section|table)/g,
      ))
        assert.ok(
          readme.has(slug(section ?? '')),
          `${file} points at the README's ${section}, which is not there`,
        );
    }
  });
});
