// A changing command started by a comment, another workflow's run or pull_request_target warns
// unless the workflow names the environment the job runs in (deployment-environment).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { environmentWarning } from '../../src/adapters/github/environment-warning.ts';
import type { Command } from '../../src/config/settings.ts';

const cases: ReadonlyArray<readonly [string, Command, string | undefined, boolean]> = [
  ['issue_comment', 'rollback', undefined, true],
  ['issue_comment', 'promote', undefined, true],
  ['workflow_run', 'rollout', undefined, true],
  ['pull_request_target', 'abort', undefined, true],
  ['issue_comment', 'rollback', 'production', false],
  ['workflow_run', 'rollout', 'production', false],
  ['issue_comment', 'status', undefined, false],
  ['pull_request_target', 'plan', undefined, false],
  ['push', 'rollout', undefined, false],
  ['workflow_dispatch', 'rollback', undefined, false],
  ['pull_request', 'rollout', undefined, false],
];

describe('the warning for a changing command without an environment', () => {
  for (const [event, command, environment, warns] of cases)
    it(`${warns ? 'warns' : 'does not warn'} for ${command} on ${event}${environment ? ` with deployment-environment ${environment}` : ''}`, () => {
      const warning = environmentWarning(event, command, environment);
      if (!warns) return assert.equal(warning, undefined);
      assert.match(warning ?? '', new RegExp(`command ${command} changes the cluster on a ${event} run`));
      assert.match(warning ?? '', /set the `deployment-environment` input/);
    });
});
