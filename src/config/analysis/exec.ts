// An `exec:` check (and the exec form of hooks and switchovers): a command run in a container of
// each pod through the API server's pods/exec, judged by its exit code and optionally its output.
import type { ExecProbe } from '../../engine/analysis.ts';
import { parseJsonPath } from '../../engine/json-path.ts';
import { URL_VARIABLES } from '../../engine/templates.ts';
import { quote } from '../../manifests/names.ts';
import { InputError } from '../input-error.ts';
import {
  type At,
  durationOf,
  INPUT,
  isMapping,
  type Mapping,
  template,
  thresholdOf,
  unknownKeys,
} from './fields.ts';

const EXEC_KEYS = ['container', 'command', 'json-path', 'equals', 'min', 'max', 'regex', 'timeout'];
const EXAMPLE = 'e.g. exec: { container: db, command: [pg_isready, -q] }';

export function parseExec(value: unknown, at: At, input = INPUT): ExecProbe {
  if (!isMapping(value)) throw new InputError(input, `${at('exec')} must be a mapping, ${EXAMPLE}`);
  unknownKeys(value, EXEC_KEYS, at('exec'), input);
  const regex = regexOf(value.regex, at('exec.regex'), input);
  const jsonPath = value['json-path'] === undefined ? undefined : jsonPathOf(value['json-path'], at, input);
  const expect = thresholdOf(value, at, 'exec', input);
  if (jsonPath !== undefined && expect === undefined)
    throw new InputError(input, `${at('exec.json-path')} needs a condition: equals, min or max`);
  return Object.freeze({
    kind: 'exec',
    container: containerOf(value.container, at('exec.container'), input),
    command: commandOf(value, at, input, URL_VARIABLES),
    jsonPath,
    expect,
    regex,
    timeoutMs: durationOf(value.timeout, '10s', at('exec.timeout'), 100, input),
  });
}

/** A container name, or undefined for the pod template's first container. */
export function containerOf(value: unknown, where: string, input = INPUT): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value))
    throw new InputError(input, `${where} ${quote(String(value))} is not a container name`);
  return value;
}

/** The argv of a command: a list of strings (no shell), each a template of `variables`. */
export function commandOf(
  value: Mapping,
  at: At,
  input: string,
  variables: readonly string[],
): readonly string[] {
  const command = value.command;
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    command.some((arg) => !['string', 'number'].includes(typeof arg))
  ) {
    throw new InputError(
      input,
      `${at('exec.command')} must be a list of arguments (no shell), ${EXAMPLE}; for a shell, write [sh, -c, "..."]`,
    );
  }
  return Object.freeze(command.map((arg) => template(String(arg), variables, at('exec.command'), input)));
}

function regexOf(value: unknown, where: string, input: string): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  try {
    new RegExp(text);
  } catch (error) {
    throw new InputError(
      input,
      `${where} ${quote(text)} is not a regular expression: ${(error as Error).message}`,
    );
  }
  return text;
}

function jsonPathOf(value: unknown, at: At, input: string): string {
  const path = String(value);
  try {
    parseJsonPath(path);
  } catch (error) {
    throw new InputError(input, `${at('exec.json-path')} ${quote(path)} ${(error as Error).message}`);
  }
  return path;
}
