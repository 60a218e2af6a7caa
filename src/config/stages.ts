// The inputs that shape the stages: `steps` and `rollback-steps` (how many pods are on the new
// revision after each stage) and `pause-after` (the stages after which a rollout stops and waits
// for `promote`). Each bad value is an InputError naming the input and the fix.
import type { Step } from '../engine/plan.ts';
import { INT32_MAX } from '../manifests/checks.ts';
import { quote } from '../manifests/names.ts';
import { InputError } from './input-error.ts';
import type { PauseAfter } from './settings.ts';

const STEPS_FORM = 'counts of pods (1 or more) or percentages of replicas (1% to 100%), e.g. "1, 50%, 100%"';

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
