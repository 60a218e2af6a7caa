import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type FakeGitHub, startFakeGitHub } from '../support/github/fake-server.ts';
import { validate } from '../support/github/schema.ts';

async function send(
  fake: FakeGitHub,
  method: string,
  path: string,
  body?: unknown,
  auth = `token ${fake.token}`,
) {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, data: (await response.json()) as { message?: string } };
}

describe('the fake GitHub server', () => {
  let fake: FakeGitHub;
  beforeEach(async () => {
    fake = await startFakeGitHub();
  });
  afterEach(() => fake.close());

  const rejected: Array<[string, string, string, unknown, RegExp]> = [
    [
      'an unknown path',
      'GET',
      '/repos/acme/shop/pulls/7/comments',
      undefined,
      /not in GitHub's OpenAPI description/,
    ],
    [
      'a wrong method',
      'PUT',
      '/repos/acme/shop/issues/comments/1',
      { body: 'x' },
      /not in GitHub's OpenAPI description/,
    ],
    ['a comment without a body', 'POST', '/repos/acme/shop/issues/7/comments', {}, /body\.body is required/],
    [
      'a comment body that is not a string',
      'POST',
      '/repos/acme/shop/issues/7/comments',
      { body: 1 },
      /must be string/,
    ],
    [
      'a misspelt property',
      'POST',
      '/repos/acme/shop/issues/7/comments',
      { body: 'x', bdy: 'x' },
      /bdy is not a property/,
    ],
    [
      'a non-integer issue number',
      'POST',
      '/repos/acme/shop/issues/seven/comments',
      { body: 'x' },
      /issue_number must be integer/,
    ],
    [
      'a deployment without a ref',
      'POST',
      '/repos/acme/shop/deployments',
      { environment: 'prod' },
      /ref is required/,
    ],
    [
      'a deployment state GitHub does not have',
      'POST',
      '/repos/acme/shop/deployments/1/statuses',
      { state: 'done' },
      /must be one of/,
    ],
  ];
  for (const [what, method, path, body, message] of rejected) {
    it(`rejects ${what} and records the violation`, async () => {
      const answer = await send(fake, method, path, body);
      assert.ok(answer.status === 404 || answer.status === 422, `status ${answer.status}`);
      assert.match(answer.data.message ?? '', message);
      assert.equal(fake.violations.length, 1);
    });
  }

  it('rejects an unknown query parameter', async () => {
    const answer = await send(fake, 'GET', '/repos/acme/shop/issues/7/comments?perpage=100');
    assert.equal(answer.status, 422);
    assert.match(fake.violations[0] ?? '', /query parameter perpage/);
  });

  it('answers 401 to a wrong token', async () => {
    const answer = await send(fake, 'GET', '/user', undefined, 'token nope');
    assert.equal(answer.status, 401);
  });

  it('accepts a valid deployment status and plays it back', async () => {
    const created = await send(fake, 'POST', '/repos/acme/shop/deployments', {
      ref: 'abc',
      auto_merge: false,
      required_contexts: [],
      payload: { a: 1 },
    });
    assert.equal(created.status, 201);
    const id = (created.data as { id?: number }).id;
    const status = await send(fake, 'POST', `/repos/acme/shop/deployments/${id}/statuses`, {
      state: 'in_progress',
      log_url: 'https://x',
    });
    assert.equal(status.status, 201);
    assert.deepEqual(fake.violations, []);
  });

  it('fails scripted requests the given number of times', async () => {
    fake.fail({ method: 'GET', path: /^\/user$/, status: 503, times: 2 });
    fake.identity = { kind: 'user', user: { login: 'me', id: 1, type: 'User' } };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(fake, 'GET', '/user')).status);
    assert.deepEqual(statuses, [503, 503, 200]);
  });
});

describe('the schema validator', () => {
  const cases: Array<[string, Parameters<typeof validate>[0], unknown, number]> = [
    ['a nullable string accepts null', { type: 'string', nullable: true }, null, 0],
    ['oneOf needs exactly one match', { oneOf: [{ type: 'object' }, { type: 'string' }] }, 'x', 0],
    ['oneOf rejects no match', { oneOf: [{ type: 'object' }, { type: 'string' }] }, 3, 1],
    ['items are checked', { type: 'array', items: { type: 'string' } }, ['a', 2], 1],
    ['an integer is a number', { type: 'number' }, 3, 0],
    [
      'additionalProperties true allows anything',
      { type: 'object', additionalProperties: true },
      { x: 1 },
      0,
    ],
  ];
  for (const [name, schema, value, problems] of cases) {
    it(name, () => assert.equal(validate(schema, value).length, problems));
  }
});
