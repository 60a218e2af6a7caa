// Action inputs -> one frozen Settings. The only reader of inputs: main.ts passes
// core.getInput, tests pass a plain function. Every bad value is an InputError that names
// the input, quotes the value and says the fix, before anything touches the cluster.

import type { Step } from '../engine/plan.ts';
import { INT32_MAX } from '../manifests/checks.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem, quote } from '../manifests/names.ts';
import { parseAnalysis } from './analysis/input.ts';
import { DURATION_FORM, DurationError, parseDuration } from './duration.ts';
import { InputError } from './input-error.ts';
import type { Command, OnFailure, OnFailureOthers, PauseAfter, Settings } from './settings.ts';

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
const ON_FAILURE_OTHERS: readonly OnFailureOthers[] = ['keep', 'rollback'];
/** The YAML 1.2 core booleans, exactly what @actions/core getBooleanInput accepts. */
const TRUE_WORDS = ['true', 'True', 'TRUE'];
const FALSE_WORDS = ['false', 'False', 'FALSE'];
const STEPS_FORM = 'counts of pods (1 or more) or percentages of replicas (1% to 100%), e.g. "1, 50%, 100%"';

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
    rollbackSteps: Object.freeze(parseSteps(read('rollback-steps') || '100%', 'rollback-steps')),
    soakMs: duration('soak', read('soak') || '30s', false),
    stageTimeoutMs: duration('stage-timeout', read('stage-timeout') || '10m', true),
    diagnoseAfterMs: duration('diagnose-after', read('diagnose-after') || '10s', false),
    allowUnhealthyStart: boolean('allow-unhealthy-start', read('allow-unhealthy-start'), false),
    maxRestarts: nonNegativeInteger('max-restarts', read('max-restarts') || '0'),
    onFailure: oneOf('on-failure', read('on-failure'), ON_FAILURE, 'rollback'),
    pauseAfter: parsePauseAfter(read('pause-after')),
    onFailureOthers: oneOf('on-failure-others', read('on-failure-others'), ON_FAILURE_OTHERS, 'keep'),
    rollbackTimeoutMs: duration('rollback-timeout', read('rollback-timeout') || '10m', true),
    fieldManager: fieldManager(read('field-manager') || 'statefulset-canary'),
    statefulset,
    toRevision,
    reason: reason(read('reason')),
    lockTimeoutMs: duration('lock-timeout', read('lock-timeout') || '0s', false),
    github: Object.freeze({
      token: read('github-token'),
      comment: boolean('comment', read('comment'), true),
      pullRequest: optionalPositiveInteger('pull-request', read('pull-request')),
      deploymentEnvironment: read('deployment-environment') || undefined,
    }),
  });
}

/**
 * Parses `pause-after`: empty (no pause), `each`, or stage numbers such as `1, 2` (comma
 * and/or newline separated, each 1 or more, going up).
 */
export function parsePauseAfter(text: string): PauseAfter {
  if (text === '') return Object.freeze([]);
  if (text.toLowerCase() === 'each') return 'each';
  const stages: number[] = [];
  for (const item of text
    .split(/[,\n]/)
    .map((i) => i.trim())
    .filter((i) => i !== '')) {
    if (!/^[1-9]\d{0,5}$/.test(item)) {
      throw new InputError(
        'pause-after',
        `${quote(item)} is not a stage number; write stage numbers from 1 (e.g. "1" or "1, 2"), or "each"`,
      );
    }
    const stage = Number(item);
    if (stages.length > 0 && stage <= (stages[stages.length - 1] ?? 0)) {
      throw new InputError(
        'pause-after',
        `stage ${stage} comes after stage ${stages[stages.length - 1]}; list stages going up`,
      );
    }
    stages.push(stage);
  }
  return Object.freeze(stages);
}

/**
 * Parses steps such as `1, 50%, 100%` (comma and/or newline separated). Counts are 1 or
 * more, percentages 1% to 100%; within each kind the steps must go up, and nothing may
 * follow 100%. A count and a percentage cannot be compared without replicas: the plan
 * drops a stage that would not move a pod.
 */
export function parseSteps(text: string, input = 'steps'): Step[] {
  const items = text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new InputError(input, `is empty; write ${STEPS_FORM}`);
  const steps: Step[] = [];
  for (const [index, item] of items.entries()) {
    const step = parseStep(item, input, index + 1);
    checkOrder(steps, step, item, input);
    steps.push(step);
  }
  return steps;
}

function parseStep(item: string, input: string, position: number): Step {
  const where = `step ${position} (${quote(item)})`;
  const match = /^(-?\d+)\s*(%?)$/.exec(item);
  if (!match) throw new InputError(input, `${where} is not a count or a percentage; write ${STEPS_FORM}`);
  const value = Number(match[1]);
  const kind = match[2] === '%' ? 'percent' : 'count';
  if (value < 0) throw new InputError(input, `${where} is negative; write ${STEPS_FORM}`);
  if (value === 0) {
    throw new InputError(
      input,
      `${where} updates no pod; every stage must update at least one. Write ${STEPS_FORM}`,
    );
  }
  if (kind === 'percent' && value > 100) {
    throw new InputError(input, `${where} is over 100%; the last stage is 100% (every pod)`);
  }
  if (kind === 'count' && value > INT32_MAX) {
    throw new InputError(input, `${where} is larger than any StatefulSet can be; use 100% for every pod`);
  }
  return { kind, value };
}

function checkOrder(previous: readonly Step[], step: Step, item: string, input: string): void {
  if (previous.some((p) => p.kind === 'percent' && p.value === 100)) {
    throw new InputError(input, `${quote(item)} follows 100%; 100% (every pod) must be the last step`);
  }
  const last = previous.findLast((p) => p.kind === step.kind);
  if (last === undefined) return;
  const unit = step.kind === 'percent' ? '%' : '';
  if (last.value === step.value) {
    throw new InputError(
      input,
      `${quote(item)} appears twice; each step must update more pods than the one before`,
    );
  }
  if (step.value < last.value) {
    throw new InputError(
      input,
      `steps go down from ${last.value}${unit} to ${step.value}${unit}; a step is how many pods are on the new ` +
        'revision after its stage, so each must be larger than the one before',
    );
  }
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
