// The README's inputs and outputs tables say what action.yml says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';

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
