// Action inputs -> one frozen Settings. The only reader of inputs: main.ts passes
// core.getInput, tests pass a plain function. Every bad value is an InputError that names
// the input, quotes the value and says the fix, before anything touches the cluster.

import { INT32_MAX } from '../manifests/checks.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem, quote } from '../manifests/names.ts';
import { parseAnalysis } from './analysis/input.ts';
import { parseClusters } from './clusters.ts';
import { DURATION_FORM, DurationError, parseDuration } from './duration.ts';
import { parseHooks } from './hooks.ts';
import { InputError } from './input-error.ts';
import { parsePrimary } from './primary.ts';
import type { Command, OnFailure, OnFailureOthers, Settings } from './settings.ts';
import { parsePauseAfter, parseSteps } from './stages.ts';
import { parseWaves } from './waves.ts';

export type InputGetter = (name: string) => string;

const COMMANDS: readonly Command[] = [
  'rollout',
  'rollback',
  'status',
  'plan',
  'promote',
  'abort',
  'park',
  'comment',
];
const ON_FAILURE: readonly OnFailure[] = ['rollback', 'halt'];
const ON_FAILURE_OTHERS: readonly OnFailureOthers[] = ['keep', 'rollback-wave', 'rollback'];
/** The YAML 1.2 core booleans, exactly what @actions/core getBooleanInput accepts. */
const TRUE_WORDS = ['true', 'True', 'TRUE'];
const FALSE_WORDS = ['false', 'False', 'FALSE'];

/** Reads and validates every input; throws InputError on the first bad one. */
export function readSettings(getInput: InputGetter): Settings {
  const read = (name: string): string => getInput(name).trim();
  const command = oneOf('command', read('command'), COMMANDS, 'rollout');
  const manifests = readList(read('manifests'));
  const statefulset = optionalName('statefulset', read('statefulset'), dns1123SubdomainProblem);
  const toRevision = optionalPositiveInteger('to-revision', read('to-revision'));
  requireFor(command, manifests.length > 0, 'manifests', ['rollout', 'plan'], 'list manifest files or globs');
  requireFor(
    command,
    statefulset !== undefined,
    'statefulset',
    ['rollback', 'status', 'promote', 'abort', 'park'],
    'name the StatefulSet',
  );
  if (toRevision !== undefined && command !== 'rollback') {
    throw new InputError(
      'to-revision',
      `applies only to command rollback (this run is ${command}); leave it empty`,
    );
  }
  const steps = Object.freeze(parseSteps(read('steps') || '1, 50%, 100%', 'steps'));
  const clusters = parseClusters(getInput('clusters'));
  if (clusters.length > 0 && read('context') !== '')
    throw new InputError(
      'clusters',
      'and the context input are both set; list every context in clusters and leave context empty',
    );
  if (clusters.length > 0 && !['rollout', 'plan'].includes(command))
    throw new InputError(
      'clusters',
      `applies to commands rollout and plan (this run is ${command}); leave it empty`,
    );
  return Object.freeze({
    command,
    manifests: Object.freeze(manifests),
    apply: boolean('apply', read('apply'), true),
    syncTimeoutMs: duration('sync-timeout', read('sync-timeout') || '10m', true),
    namespace: optionalName('namespace', read('namespace'), dns1123LabelProblem),
    kubeconfig: kubeconfigContent(read('kubeconfig')),
    context: read('context') || undefined,
    steps,
    analysis: parseAnalysis(getInput('analysis'), steps.length),
    hooks: parseHooks(getInput('hooks')),
    primary: parsePrimary(getInput('primary')),
    rollbackSteps: Object.freeze(parseSteps(read('rollback-steps') || '100%', 'rollback-steps')),
    soakMs: duration('soak', read('soak') || '30s', false),
    stageTimeoutMs: duration('stage-timeout', read('stage-timeout') || '10m', true),
    diagnoseAfterMs: duration('diagnose-after', read('diagnose-after') || '10s', false),
    allowUnhealthyStart: boolean('allow-unhealthy-start', read('allow-unhealthy-start'), false),
    maxRestarts: nonNegativeInteger('max-restarts', read('max-restarts') || '0'),
    onFailure: oneOf('on-failure', read('on-failure'), ON_FAILURE, 'rollback'),
    pauseAfter: parsePauseAfter(read('pause-after')),
    onFailureOthers: oneOf('on-failure-others', read('on-failure-others'), ON_FAILURE_OTHERS, 'keep'),
    waves: parseWaves(getInput('waves')),
    maxParallel: positiveInteger('max-parallel', read('max-parallel') || '4'),
    clusters,
    clusterSoakMs: duration('cluster-soak', read('cluster-soak') || '0s', false),
    rollbackTimeoutMs: duration('rollback-timeout', read('rollback-timeout') || '10m', true),
    fieldManager: fieldManager(read('field-manager') || 'statefulset-canary'),
    statefulset,
    toRevision,
    reason: reason(read('reason')),
    lockTimeoutMs: duration('lock-timeout', read('lock-timeout') || '0s', false),
    planShowValues: boolean('plan-show-values', read('plan-show-values'), false),
    github: Object.freeze({
      token: read('github-token'),
      comment: boolean('comment', read('comment'), true),
      pullRequest: optionalPositiveInteger('pull-request', read('pull-request')),
      deploymentEnvironment: read('deployment-environment') || undefined,
    }),
  });
}

/** Multi-line list: one entry per line; blank lines and `#` comments are ignored. */
function readList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

function requireFor(command: Command, present: boolean, input: string, needs: Command[], fix: string): void {
  if (!present && needs.includes(command)) {
    throw new InputError(input, `is required for command ${command}; ${fix}`);
  }
}

function oneOf<T extends string>(input: string, value: string, allowed: readonly T[], fallback: T): T {
  if (value === '') return fallback;
  const found = allowed.find((a) => a === value);
  if (found === undefined) {
    throw new InputError(input, `${quote(value)} is not one of ${allowed.join(', ')} (default ${fallback})`);
  }
  return found;
}

function duration(input: string, value: string, positive: boolean): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    if (error instanceof DurationError) throw new InputError(input, error.message);
    throw error;
  }
  if (positive && ms === 0) {
    throw new InputError(
      input,
      `${quote(value)} is zero; a stage needs time to become healthy: ${DURATION_FORM}`,
    );
  }
  return ms;
}

function nonNegativeInteger(input: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > INT32_MAX) {
    throw new InputError(input, `${quote(value)} is not a whole number 0 or more, e.g. 0 or 2`);
  }
  return Number(value);
}

function positiveInteger(input: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0 || Number(value) > 1000) {
    throw new InputError(
      input,
      `${quote(value)} is not a whole number from 1 to 1000; e.g. 4 (1: one StatefulSet at a time)`,
    );
  }
  return Number(value);
}

function optionalPositiveInteger(input: string, value: string): number | undefined {
  if (value === '') return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) === 0) {
    throw new InputError(
      input,
      `${quote(value)} is not a whole number 1 or more, e.g. 3 (or leave it empty)`,
    );
  }
  return Number(value);
}

function boolean(input: string, value: string, fallback: boolean): boolean {
  if (value === '') return fallback;
  if (TRUE_WORDS.includes(value)) return true;
  if (FALSE_WORDS.includes(value)) return false;
  throw new InputError(input, `${quote(value)} is not a boolean; write true or false`);
}

function optionalName(input: string, value: string, problem: (name: string) => string | undefined) {
  if (value === '') return undefined;
  const found = problem(value);
  if (found !== undefined) throw new InputError(input, `${quote(value)} ${found}`);
  return value;
}

/**
 * Kubernetes accepts any printable field manager up to 128 characters; the limit matters
 * because managedFields entries are keyed by it.
 */
function fieldManager(value: string): string {
  if (value.length > 128) {
    throw new InputError(
      'field-manager',
      `${quote(value)} is ${value.length} characters long; the limit is 128`,
    );
  }
  if (!/^(?:[^\p{C}\p{Z}]| )+$/u.test(value)) {
    throw new InputError(
      'field-manager',
      `${quote(value)} contains characters that are not printable; use e.g. ci-deploy`,
    );
  }
  return value;
}

/**
 * The kubeconfig input is the file's content. A single line that is neither JSON nor a
 * `key: value` pair is almost always a path or base64: say so without echoing it, since
 * it may be secret.
 */
function kubeconfigContent(value: string): string | undefined {
  if (value === '') return undefined;
  if (!value.includes('\n') && !value.startsWith('{') && !/:\s/.test(value)) {
    throw new InputError(
      'kubeconfig',
      'looks like a path or base64, not kubeconfig content (value not shown: it may be secret). Pass the ' +
        'decoded file content (e.g. from a repository secret holding the file), or leave it empty and set KUBECONFIG to a path',
    );
  }
  return value;
}

/** Free text for the change cause: one line, printable, at most 200 characters. */
function reason(text: string): string | undefined {
  if (text === '') return undefined;
  if (text.length > 200)
    throw new InputError('reason', `is ${text.length} characters long; keep it to 200 or fewer`);
  if ([...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new InputError('reason', 'contains a line break or control character; write it on one line');
  }
  return text;
}
