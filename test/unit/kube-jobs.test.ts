// The names the Jobs adapter gives the Jobs it creates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobName } from '../../src/adapters/kubernetes/jobs.ts';

describe('Job names', () => {
  it('Add five random lower-case letters or digits to the prefix', () => {
    const names = new Set(Array.from({ length: 50 }, () => jobName('db-before-stage-2')));
    for (const name of names) assert.match(name, /^db-before-stage-2-[a-z0-9]{5}$/);
    assert.ok(names.size > 45, `50 names, ${names.size} distinct`);
  });

  it('Cut a long prefix so the whole name is a DNS label of at most 63 characters', () => {
    const name = jobName(`${'a'.repeat(56)}-b-hook`);
    assert.equal(name.length, 62, name);
    assert.match(name, /^a{56}-[a-z0-9]{5}$/, 'the cut leaves no dash before the suffix');
    assert.equal(jobName('x'.repeat(80)).length, 63);
  });
});
