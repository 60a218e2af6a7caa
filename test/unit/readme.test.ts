// The README and docs/ say what the code does: the README's inputs and outputs tables say what action.yml says,
// docs/architecture.md's Layout names the tree, and the GitHub requests and events are those the code knows.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';
import { understoodEvents } from '../../src/adapters/github/pull-request.ts';

interface ActionYml {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, unknown>;
}

const action = load(readFileSync('action.yml', 'utf8')) as ActionYml;
const readme = readFileSync('README.md', 'utf8');

/** Rows of the Markdown table under `## heading`: first cell (unquoted) -> second cell. */
function table(heading: string): Map<string, string> {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((c) => c.trim());
    const name = /^`([a-z-]+)`$/.exec(cells[0] ?? '')?.[1];
    if (name) rows.set(name, cells[1] ?? '');
  }
  return rows;
}

describe('README', () => {
  const inputs = table('Inputs');
  it('documents every input of action.yml, and no other', () => {
    assert.deepEqual([...inputs.keys()].sort(), Object.keys(action.inputs).sort());
  });
  for (const [name, input] of Object.entries(action.inputs)) {
    it(`gives input ${name} the default action.yml gives it`, () => {
      const documented = inputs.get(name)?.replace(/^`|`$/g, '') ?? '';
      assert.equal(documented, input.default ?? '');
    });
  }
  it('documents every output of action.yml, and no other', () => {
    assert.deepEqual([...table('Outputs').keys()].sort(), Object.keys(action.outputs).sort());
  });
});

describe('the layout in docs/architecture.md', () => {
  const architecture = readFileSync('docs/architecture.md', 'utf8');
  const block = architecture.split('\n## Layout\n')[1]?.split('```')[1] ?? '';
  const named = new Set(
    [...block.matchAll(/(?:^|[\s,])((?:src|test|bench|examples|scripts)(?:\/[\w.-]+)*\/?)/g)].map((m) =>
      (m[1] ?? '').replace(/\/$/, ''),
    ),
  );
  it('names only paths that exist', () => {
    assert.ok(named.size > 10, `the Layout block names paths (${[...named].join(', ')})`);
    for (const path of named) assert.ok(existsSync(path), `${path} is in the Layout but not in the tree`);
  });
  it('names every directory of src/ and test/', () => {
    const dirs = ['src', 'test'].flatMap((root) =>
      readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => join(d.parentPath, d.name))
        .filter(
          (d) => !/fixtures|k8sbin|etcdbin|testdata/.test(d) && readdirSync(d).some((f) => f.endsWith('.ts')),
        ),
    );
    for (const dir of dirs) {
      const covered =
        [...named].some((n) => dir === n || dir.startsWith(`${n}/`)) || block.includes(`${basename(dir)}/`);
      assert.ok(covered, `${dir} is in the tree but not in the Layout`);
    }
  });
});

/** The text of `## heading` (up to the next `## `) in a Markdown file. */
function section(heading: string, text = readme): string {
  return text.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
}

describe('the README, the docs and the code agree', () => {
  it('shows examples/workflows/rollout.yml as its example, byte for byte', () => {
    const example = section('Roll out on merge to main').split('```yaml\n')[1]?.split('```')[0];
    assert.equal(example, readFileSync('examples/workflows/rollout.yml', 'utf8'));
  });

  it('lists every GitHub request the action can make, each with the permission it needs', () => {
    // The contract fixture holds exactly the operations the reporter uses (the fake GitHub
    // refuses any other), plus the one GraphQL query.
    const fixture = JSON.parse(readFileSync('test/fixtures/github-openapi.json', 'utf8')) as {
      operations: Array<{ method: string; path: string }>;
    };
    const expected = [
      ...fixture.operations.map((o) => `${o.method.toUpperCase()} ${o.path}`),
      'POST /graphql',
    ].sort();
    const rows = [
      ...section('GitHub permissions', readFileSync('docs/permissions.md', 'utf8')).matchAll(
        /^\| `([A-Z]+ \/[^`]*)` \| [^|]+ \| ([^|]+) \|$/gm,
      ),
    ];
    assert.deepEqual(rows.map((r) => r[1]).sort(), expected);
    for (const row of rows) assert.match(row[2] ?? '', /none|read|write/, row[0]);
  });

  it('lists every event the action understands', () => {
    const events = section(
      'Which pull requests get the comment',
      readFileSync('docs/github-reporting.md', 'utf8'),
    );
    for (const event of understoodEvents) assert.ok(events.includes(`\`${event}\``), event);
  });
});
