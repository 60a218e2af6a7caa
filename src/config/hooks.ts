// The `hooks` input: a YAML list of hooks, each a name, the events it runs at and one call
// (exec, job or http). Read and checked whole before anything in the cluster changes.
import { CORE_SCHEMA, load } from 'js-yaml';
import { HOOK_EVENTS, type Hook, type HookEvent } from '../engine/hooks.ts';
import { quote } from '../manifests/names.ts';
import { isMapping, unknownKeys } from './analysis/fields.ts';
import { parseCall } from './calls.ts';
import { InputError } from './input-error.ts';

const INPUT = 'hooks';
const KEYS = ['name', 'on', 'exec', 'job', 'http', 'timeout'];
const EXAMPLE =
  'e.g.\n- name: pause-backups\n  on: [before-rollout, after-rollout]\n  http: { url: https://backup.example/api/pause }';

/** Reads the `hooks` input; empty: none. */
export function parseHooks(text: string): readonly Hook[] {
  if (text.trim() === '') return Object.freeze([]);
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    throw new InputError(INPUT, `is not valid YAML (${(error as Error).message.split('\n')[0]}); ${EXAMPLE}`);
  }
  if (!Array.isArray(doc)) throw new InputError(INPUT, `must be a YAML list of hooks, ${EXAMPLE}`);
  const names = new Set<string>();
  return Object.freeze(
    doc.map((item, index) => {
      const hook = parseHook(item, index);
      if (names.has(hook.name))
        throw new InputError(INPUT, `two hooks are named ${quote(hook.name)}; give each its own`);
      names.add(hook.name);
      return hook;
    }),
  );
}

function parseHook(item: unknown, index: number): Hook {
  if (!isMapping(item)) throw new InputError(INPUT, `hook ${index + 1} is not a mapping; ${EXAMPLE}`);
  const name = item.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/.test(name))
    throw new InputError(
      INPUT,
      `hook ${index + 1}: name ${name === undefined ? 'is missing' : `${quote(String(name))} is not a name`}; use lower-case letters, digits and "-"`,
    );
  const at = (key: string) => `hook ${quote(name)}: ${key}`;
  unknownKeys(item, KEYS, `hook ${quote(name)}`, INPUT);
  return Object.freeze({
    name,
    on: eventsOf(item.on, at('on')),
    call: parseCall(item, at, INPUT, undefined),
  });
}

function eventsOf(value: unknown, where: string): readonly HookEvent[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  if (list.length === 0)
    throw new InputError(INPUT, `${where} is missing; list the events it runs at: ${HOOK_EVENTS.join(', ')}`);
  for (const event of list)
    if (!(HOOK_EVENTS as readonly unknown[]).includes(event))
      throw new InputError(
        INPUT,
        `${where} ${quote(String(event))} is not an event; the events are ${HOOK_EVENTS.join(', ')}`,
      );
  return Object.freeze([...new Set(list as HookEvent[])]);
}
