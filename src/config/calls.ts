// What a hook or a switchover does: exactly one of exec (a command in a named pod), job (a Job
// from a template) or http (a POST of the event as JSON). Read for the `hooks` and `primary`
// inputs; every refusal names the input, the entry and the key.
import type { HookCall } from '../engine/hooks.ts';
import { HOOK_VARIABLES } from '../engine/templates.ts';
import { quote } from '../manifests/names.ts';
import { commandOf, containerOf } from './analysis/exec.ts';
import {
  type At,
  durationOf,
  headersOf,
  isMapping,
  type Mapping,
  template,
  unknownKeys,
} from './analysis/fields.ts';
import { parseJob } from './analysis/job.ts';
import { InputError } from './input-error.ts';

const CALLS = ['exec', 'job', 'http'] as const;

/** The one call of `item` (its `exec`, `job` or `http` key); `defaultPod` for exec without `pod`. */
export function parseCall(item: Mapping, at: At, input: string, defaultPod: string | undefined): HookCall {
  const kinds = CALLS.filter((k) => item[k] !== undefined);
  if (kinds.length !== 1)
    throw new InputError(
      input,
      `${at(kinds.length ? kinds.join(' and ') : 'exec')}: give exactly one of exec, job or http${kinds.length ? '' : ' (none is set)'}`,
    );
  const timeoutMs = durationOf(item.timeout, '1m', at('timeout'), 1000, input);
  switch (kinds[0]) {
    case 'job': {
      const job = parseJob(item.job, at, input, HOOK_VARIABLES);
      return Object.freeze({ kind: 'job', template: job.template, timeoutMs: job.timeoutMs });
    }
    case 'http':
      return httpCall(item.http, at, input, timeoutMs);
    default:
      return execCall(item.exec, at, input, timeoutMs, defaultPod);
  }
}

function execCall(
  value: unknown,
  at: At,
  input: string,
  timeoutMs: number,
  defaultPod: string | undefined,
): HookCall {
  if (!isMapping(value))
    throw new InputError(
      input,
      `${at('exec')} must be a mapping, e.g. exec: { pod: "{{primary}}", command: [...] }`,
    );
  unknownKeys(value, ['pod', 'container', 'command'], at('exec'), input);
  const pod = value.pod === undefined ? defaultPod : String(value.pod);
  if (pod === undefined)
    throw new InputError(
      input,
      `${at('exec.pod')} is missing; name the pod to run in, e.g. pod: "{{primary}}" or db-0`,
    );
  return Object.freeze({
    kind: 'exec',
    pod: template(pod, HOOK_VARIABLES, at('exec.pod'), input),
    container: containerOf(value.container, at('exec.container'), input),
    command: commandOf(value, at, input, HOOK_VARIABLES),
    timeoutMs,
  });
}

function httpCall(value: unknown, at: At, input: string, timeoutMs: number): HookCall {
  if (!isMapping(value))
    throw new InputError(input, `${at('http')} must be a mapping, e.g. http: { url: https://... }`);
  unknownKeys(value, ['url', 'headers'], at('http'), input);
  const url =
    typeof value.url === 'string' ? template(value.url.trim(), HOOK_VARIABLES, at('http.url'), input) : '';
  let parsed: URL | undefined;
  try {
    parsed = new URL(url.replace(/\{\{[^}]*\}\}/g, 'x'));
  } catch {
    parsed = undefined;
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol))
    throw new InputError(input, `${at('http.url')} ${quote(url)} is not an http(s) URL`);
  return Object.freeze({
    kind: 'http',
    url,
    headers: headersOf(value.headers, at('http.headers'), input),
    timeoutMs,
  });
}
