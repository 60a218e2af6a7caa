// The fields every kind of check shares (durations, whole numbers, headers, thresholds,
// templates) and the checks on a mapping's keys. Each throws an InputError for the `analysis`
// input that names the check and the key (`where`) and says the fix.
import type { Threshold } from '../../engine/analysis.ts';
import { placeholders } from '../../engine/templates.ts';
import { quote } from '../../manifests/names.ts';
import { DURATION_FORM, DurationError, parseDuration } from '../duration.ts';
import { InputError } from '../input-error.ts';

export const INPUT = 'analysis';

export type Mapping = Record<string, unknown>;

/** Names a key of one check in errors, e.g. `check "healthz": http.port`. */
export type At = (key: string) => string;

export function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function unknownKeys(value: Mapping, known: readonly string[], where: string, input = INPUT): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new InputError(
        input,
        `${where} has an unknown key ${quote(key)}; the keys are ${known.join(', ')}`,
      );
  }
}

export function durationOf(
  value: unknown,
  fallback: string,
  where: string,
  minMs: number,
  input = INPUT,
): number {
  const text = value === undefined ? fallback : String(value);
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    if (error instanceof DurationError) throw new InputError(input, `${where}: ${error.message}`);
    throw error;
  }
  if (ms < minMs)
    throw new InputError(
      input,
      `${where} ${quote(text)} is too short; write at least ${minMs}ms (${DURATION_FORM})`,
    );
  return ms;
}

export function integerOf(
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  where: string,
  input = INPUT,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InputError(
      input,
      `${where} ${quote(String(value))} is not a whole number from ${min} to ${max}`,
    );
  return value;
}

export function thresholdOf(value: Mapping, at: At, kind: string, input = INPUT): Threshold | undefined {
  const min = value.min;
  const max = value.max;
  const equals = kind === 'http' || kind === 'exec' ? value.equals : undefined;
  if (min === undefined && max === undefined && equals === undefined) return undefined;
  for (const [key, bound] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (bound !== undefined && (typeof bound !== 'number' || !Number.isFinite(bound)))
      throw new InputError(input, `${at(`${kind}.${key}`)} ${quote(String(bound))} is not a number`);
  }
  if (typeof min === 'number' && typeof max === 'number' && min > max)
    throw new InputError(input, `${at(kind)}: min ${min} is above max ${max}; no value could pass`);
  if (equals !== undefined && (min !== undefined || max !== undefined))
    throw new InputError(
      input,
      `${at(kind)} has equals and min/max; use equals for a value, min/max for a range`,
    );
  if (equals !== undefined && !['string', 'number', 'boolean'].includes(typeof equals))
    throw new InputError(input, `${at(`${kind}.equals`)} must be a string, number or true/false`);
  return Object.freeze({
    min: min as number | undefined,
    max: max as number | undefined,
    equals: equals as Threshold['equals'],
  });
}

export function headersOf(value: unknown, where: string, input = INPUT): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (!isMapping(value)) throw new InputError(input, `${where} must be a mapping of header names to values`);
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (
      !/^[A-Za-z0-9-]{1,64}$/.test(name) ||
      /^(host|content-length|transfer-encoding|connection)$/i.test(name)
    )
      throw new InputError(input, `${where} ${quote(name)} is not a header this check may set`);
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new InputError(input, `${where}.${name} must be text`);
    if (/[\r\n]/.test(String(v)))
      throw new InputError(input, `${where}.${name} has a line break; a header value is one line`);
    headers[name] = String(v);
  }
  return Object.freeze(headers);
}

export function template(text: string, allowed: readonly string[], where: string, input = INPUT): string {
  let names: string[];
  try {
    names = placeholders(text);
  } catch (error) {
    throw new InputError(
      input,
      `${where} ${(error as Error).message}; placeholders are ${allowed.map((v) => `{{${v}}}`).join(', ')}`,
    );
  }
  for (const name of names) {
    if (!allowed.includes(name))
      throw new InputError(
        input,
        `${where} has an unknown placeholder {{${name}}}; the placeholders are ${allowed.map((v) => `{{${v}}}`).join(', ')}`,
      );
  }
  return text;
}

/** A label selector in its text form (`role=replica`, `app in (a,b)`), checked for its shape. */
export function selectorOf(value: unknown, where: string, input = INPUT): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.trim() : '';
  const requirement =
    /^!?[A-Za-z0-9][-A-Za-z0-9_./]*(\s*(==?|!=)\s*[-A-Za-z0-9_.]*|\s+(in|notin)\s*\([-A-Za-z0-9_.,\s]*\))?$/;
  if (text === '' || !splitSelector(text).every((r) => requirement.test(r.trim())))
    throw new InputError(
      input,
      `${where} ${quote(String(value))} is not a label selector; write it as kubectl -l takes it, e.g. role=replica or spilo-role=master`,
    );
  return text;
}

/** A selector's requirements: commas split them, except inside `in (...)`. */
function splitSelector(text: string): string[] {
  return text.split(/,(?![^()]*\))/);
}
