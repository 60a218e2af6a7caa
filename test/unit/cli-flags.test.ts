// The command line takes every input of action.yml as a flag of the same name, but for the
// command (its first argument) and the inputs that only mean something on GitHub.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { load } from 'js-yaml';

const action = load(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> };
/** Inputs with no flag: the command is the first argument; the rest are GitHub's. */
const NOT_FLAGS = ['command', 'github-token', 'comment', 'pull-request', 'deployment-environment'];
const flags = Object.keys(action.inputs).filter((input) => !NOT_FLAGS.includes(input));

function cli(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['src/cli.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: '/nonexistent' },
  });
  return { status: result.status, stderr: result.stderr };
}

describe('the command line', () => {
  it('accepts a flag for every input of action.yml but the GitHub ones', () => {
    assert.ok(flags.length > 20 && flags.includes('diagnose-after'), flags.join(', '));
    // An unknown command fails after the flags are parsed, so an unknown flag would say so first.
    const { status, stderr } = cli('no-such-command', ...flags.flatMap((flag) => [`--${flag}`, 'x']));
    assert.equal(status, 2, stderr);
    assert.doesNotMatch(stderr, /Unknown option/);
    assert.match(stderr, /Input command: "no-such-command" is not one of/);
  });

  it('lists every flag in its usage', () => {
    const { status, stderr } = cli('--help');
    assert.equal(status, 0);
    for (const flag of flags) assert.match(stderr, new RegExp(`^  --${flag} `, 'm'), flag);
  });

  it('reads --diagnose-after and --allow-unhealthy-start as those inputs', () => {
    const late = cli('status', '--statefulset', 'db', '--diagnose-after', 'soon');
    assert.equal(late.status, 2);
    assert.match(late.stderr, /Input diagnose-after: /);
    const unsure = cli('rollout', '--manifests', 'db.yaml', '--allow-unhealthy-start', 'maybe');
    assert.equal(unsure.status, 2);
    assert.match(unsure.stderr, /Input allow-unhealthy-start: /);
  });
});
