// The `clusters` input: kube contexts of the kubeconfig in waves, in the order the run goes to
// them (e.g. staging, then eu-1, then us-1 and us-2 together). Whether each context exists, can
// be reached and lets the run do its work is checked before anything changes anywhere
// (src/runner/fleet/targets.ts).
import type { ClusterWave } from '../engine/waves.ts';
import { quote } from '../manifests/names.ts';
import { isMapping, unknownKeys } from './analysis/fields.ts';
import { InputError } from './input-error.ts';
import { yamlList } from './waves.ts';

const INPUT = 'clusters';
const EXAMPLE = 'e.g.\n- staging\n- eu-1\n- name: us\n  contexts: [us-1, us-2]';

/** Reads the `clusters` input; empty: the one context of the `context` input (or the current). */
export function parseClusters(text: string): readonly ClusterWave[] {
  const seen = new Set<string>();
  return Object.freeze(
    yamlList(text, INPUT, EXAMPLE).map((item, index) => {
      const wave = parseClusterWave(item, `cluster wave ${index + 1}`);
      for (const context of wave.contexts) {
        if (seen.has(context))
          throw new InputError(
            INPUT,
            `context ${quote(context)} is in two cluster waves; list each context once`,
          );
        seen.add(context);
      }
      return wave;
    }),
  );
}

function parseClusterWave(item: unknown, where: string): ClusterWave {
  if (typeof item === 'string' || Array.isArray(item))
    return Object.freeze({ name: undefined, contexts: contexts(item, where) });
  if (!isMapping(item))
    throw new InputError(INPUT, `${where} is not a context, a list or a mapping; ${EXAMPLE}`);
  unknownKeys(item, ['name', 'contexts'], where, INPUT);
  const name = item.name;
  if (name !== undefined && (typeof name !== 'string' || name.trim() === ''))
    throw new InputError(INPUT, `${where}: name must be a text`);
  return Object.freeze({ name: name?.trim(), contexts: contexts(item.contexts, `${where}: contexts`) });
}

function contexts(value: unknown, where: string): readonly string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  if (list.length === 0) throw new InputError(INPUT, `${where} lists no context; ${EXAMPLE}`);
  for (const c of list)
    if (typeof c !== 'string' || c.trim() === '' || /[\s,]/.test(c))
      throw new InputError(INPUT, `${where}: ${quote(String(c))} is not a kubeconfig context name`);
  return Object.freeze([...new Set(list as string[])]);
}
