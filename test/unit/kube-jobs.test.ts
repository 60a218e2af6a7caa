// The names and bodies of the Jobs the Jobs adapter creates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobBody, jobName } from '../../src/adapters/kubernetes/jobs.ts';
import type { KubeObject } from '../../src/ports/cluster.ts';
import { JOB_LABEL, JOB_PURPOSE_LABEL } from '../../src/ports/job.ts';

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

describe('Job bodies', () => {
  const request = (job: unknown) => ({
    namespace: 'shop',
    job: job as KubeObject,
    labels: { [JOB_LABEL]: 'db', [JOB_PURPOSE_LABEL]: 'smoke' },
    namePrefix: 'db-smoke-1',
    timeoutMs: 1000,
    signal: new AbortController().signal,
  });

  it('Name a Job of a template without metadata, and label it and its pods', () => {
    const body = jobBody(
      request({ apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { containers: [] } } } }),
      'db-smoke-1-abcde',
    );
    const labels = { [JOB_LABEL]: 'db', [JOB_PURPOSE_LABEL]: 'smoke' };
    assert.deepEqual(body.metadata, { labels, name: 'db-smoke-1-abcde', namespace: 'shop' });
    assert.deepEqual(body.spec, { template: { metadata: { labels }, spec: { containers: [] } } });
  });

  it("Keep the template's own labels, replace its name and drop generateName", () => {
    const body = jobBody(
      request({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'x', generateName: 'x-', labels: { team: 'db' } },
        spec: { ttlSecondsAfterFinished: 60, template: { metadata: { labels: { app: 'smoke' } } } },
      }),
      'db-smoke-1-abcde',
    );
    assert.equal(body.metadata.name, 'db-smoke-1-abcde');
    assert.equal(body.metadata.generateName, undefined);
    assert.equal((body.metadata.labels as Record<string, string>).team, 'db');
    const spec = body.spec as { ttlSecondsAfterFinished: number; template: { metadata: { labels: object } } };
    assert.equal(spec.ttlSecondsAfterFinished, 60, 'left as the template says');
    assert.deepEqual(spec.template.metadata.labels, {
      app: 'smoke',
      [JOB_LABEL]: 'db',
      [JOB_PURPOSE_LABEL]: 'smoke',
    });
  });
});
