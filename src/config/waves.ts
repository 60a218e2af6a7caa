// The `waves` input: a YAML list of waves, each the StatefulSets that roll out together (by
// name, glob or label selector), in the order they run. Read and checked whole before anything
// in the cluster changes; which StatefulSets each wave holds is decided against the manifests
// (src/engine/waves.ts).
import { CORE_SCHEMA, load } from 'js-yaml';
import type { WaveSpec } from '../engine/waves.ts';
import { quote } from '../manifests/names.ts';
import { isMapping, selectorOf, unknownKeys } from './analysis/fields.ts';
import { InputError } from './input-error.ts';

const INPUT = 'waves';
const KEYS = ['name', 'statefulsets', 'selector'];
const EXAMPLE =
  'e.g.\n- name: coordination\n  statefulsets: [zookeeper]\n- name: brokers\n  statefulsets: ["kafka-*"]\n- selector: tier=cache';

/** Reads the `waves` input; empty: none (each StatefulSet on its own, in file order). */
export function parseWaves(text: string): readonly WaveSpec[] {
  const doc = yamlList(text, INPUT, EXAMPLE);
  const names = new Set<string>();
  return Object.freeze(
    doc.map((item, index) => {
      const wave = parseWave(item, index);
      if (wave.name !== undefined && names.has(wave.name))
        throw new InputError(INPUT, `two waves are named ${quote(wave.name)}; give each its own`);
      if (wave.name !== undefined) names.add(wave.name);
      return wave;
    }),
  );
}

/** A YAML list input (empty text: none), or an InputError naming it. */
export function yamlList(text: string, input: string, example: string): unknown[] {
  if (text.trim() === '') return [];
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    throw new InputError(input, `is not valid YAML (${(error as Error).message.split('\n')[0]}); ${example}`);
  }
  if (!Array.isArray(doc) || doc.length === 0)
    throw new InputError(input, `must be a YAML list of waves, in order; ${example}`);
  return doc;
}

function parseWave(item: unknown, index: number): WaveSpec {
  const where = `wave ${index + 1}`;
  // A bare list (or one name) is a wave of those StatefulSets.
  if (typeof item === 'string' || Array.isArray(item))
    return Object.freeze({ name: undefined, statefulSets: patterns(item, where), selector: undefined });
  if (!isMapping(item))
    throw new InputError(INPUT, `${where} is not a mapping or a list of StatefulSet names; ${EXAMPLE}`);
  unknownKeys(item, KEYS, where, INPUT);
  const name = item.name;
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > 63))
    throw new InputError(INPUT, `${where}: name must be a short text (at most 63 characters)`);
  const statefulSets =
    item.statefulsets === undefined ? [] : patterns(item.statefulsets, `${where}: statefulsets`);
  const selector = selectorOf(item.selector, `${where}: selector`, INPUT);
  if (statefulSets.length === 0 && selector === undefined)
    throw new InputError(
      INPUT,
      `${where} names no StatefulSet; give statefulsets (names or globs) or selector (a label selector); ${EXAMPLE}`,
    );
  return Object.freeze({ name: name?.trim(), statefulSets, selector });
}

function patterns(value: unknown, where: string): readonly string[] {
  const list = Array.isArray(value) ? value : [value];
  for (const p of list)
    if (typeof p !== 'string' || !/^([a-z0-9*?][-a-z0-9.*?]*\/)?[a-z0-9*?][-a-z0-9.*?]*$/.test(p))
      throw new InputError(
        INPUT,
        `${where}: ${quote(String(p))} is not a StatefulSet name or glob; write e.g. kafka, "kafka-*" or "team-a/db-?"`,
      );
  if (list.length === 0)
    throw new InputError(INPUT, `${where} is an empty list; name at least one StatefulSet`);
  return Object.freeze(list as string[]);
}
