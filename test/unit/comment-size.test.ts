// GitHub rejects a comment body above 65,536 characters (issue 26 item 6): a long report, plan or
// answer is cut below it at a line end, never inside a character, with an open fence closed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clampBody } from '../../src/adapters/github/comment.ts';

/** Whether every fence in `markdown` is closed (``` and ~~~ blocks, by CommonMark's rule). */
function fencesBalanced(markdown: string): boolean {
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker === undefined) continue;
    if (fence === undefined) fence = marker;
    else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
  }
  return fence === undefined;
}

describe('a comment body over GitHub’s limit', () => {
  const diff = `<!-- marker -->\n## Plan\n\n\`\`\`\`diff\n${'+  - name: FOO\n'.repeat(6000)}\`\`\`\`\n\n<sub>footer</sub>\n`;

  it('is cut below 65,536 characters, with the note, and the diff’s fence closed', () => {
    assert.ok(diff.length > 65_536);
    assert.ok(!fencesBalanced(diff.slice(0, 65_000)), 'a plain slice leaves the fence open');
    const cut = clampBody(diff);
    assert.ok(cut.length <= 65_000, String(cut.length));
    assert.ok(fencesBalanced(cut), cut.slice(-200));
    assert.match(cut, /\n````\n\n…\(cut to fit GitHub's comment size limit\)\n$/);
  });

  it('keeps whole lines only', () => {
    const lines = clampBody(diff).split('\n');
    const kept = lines.slice(0, lines.indexOf('````', 4));
    assert.ok(kept.length > 4);
    assert.ok(diff.startsWith(`${kept.join('\n')}\n`));
  });

  it('never splits a character made of two UTF-16 units', () => {
    const emoji = '🚀'.repeat(40_000);
    assert.ok(!emoji.slice(0, 64_999).isWellFormed(), 'a plain slice can split one');
    const cut = clampBody(emoji, 65_000);
    assert.ok(cut.isWellFormed());
    assert.ok(cut.length <= 65_000);
  });

  it('leaves a body within the limit as it is', () => {
    assert.equal(clampBody('short\n```\nopen'), 'short\n```\nopen');
  });
});
