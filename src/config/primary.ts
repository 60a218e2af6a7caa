// The `primary` input: how to find the pod holding the primary (leader) role, and how to move
// it (the switchover) before a stage would restart it. Read and checked whole before anything
// in the cluster changes.
import { CORE_SCHEMA, load } from 'js-yaml';
import type { ExecProbe } from '../engine/analysis.ts';
import type { HookCall } from '../engine/hooks.ts';
import { parseExec } from './analysis/exec.ts';
import { durationOf, isMapping, selectorOf, unknownKeys } from './analysis/fields.ts';
import { parseCall } from './calls.ts';
import { InputError } from './input-error.ts';

const INPUT = 'primary';
const KEYS = ['selector', 'exec', 'switchover', 'timeout'];
const EXAMPLE =
  'e.g.\nselector: spilo-role=master\nswitchover:\n  exec: { pod: "{{from}}", command: [patronictl, switchover, --candidate, "{{to}}", --force] }';

export interface PrimarySettings {
  /** A label selector that matches the primary only; or */
  readonly selector: string | undefined;
  /** a command that exits 0 (and keeps its condition) on the primary only. */
  readonly check: ExecProbe | undefined;
  /** Moves the role from `{{from}}` to `{{to}}`; undefined: pause before the primary's stage. */
  readonly switchover: HookCall | undefined;
  /** How long the role may take to move after the switchover, and to be found at all. */
  readonly timeoutMs: number;
}

/** Reads the `primary` input; empty: the rollout does not look for a primary. */
export function parsePrimary(text: string): PrimarySettings | undefined {
  if (text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    throw new InputError(INPUT, `is not valid YAML (${(error as Error).message.split('\n')[0]}); ${EXAMPLE}`);
  }
  if (!isMapping(doc)) throw new InputError(INPUT, `must be a mapping; ${EXAMPLE}`);
  unknownKeys(doc, KEYS, 'the primary input', INPUT);
  const at = (key: string) => key;
  if ((doc.selector === undefined) === (doc.exec === undefined))
    throw new InputError(
      INPUT,
      `${doc.selector === undefined ? 'says no way' : 'gives two ways'} to find the primary: set selector (a label only the primary has) or exec (a command that exits 0 on the primary only), not both; ${EXAMPLE}`,
    );
  const switchover = doc.switchover;
  if (switchover !== undefined && !isMapping(switchover))
    throw new InputError(INPUT, `switchover must be a mapping with one of exec, job or http; ${EXAMPLE}`);
  if (switchover) unknownKeys(switchover, ['exec', 'job', 'http', 'timeout'], 'switchover', INPUT);
  return Object.freeze({
    selector: selectorOf(doc.selector, 'selector', INPUT),
    check: doc.exec === undefined ? undefined : parseExec(doc.exec, at, INPUT),
    switchover: switchover ? parseCall(switchover, (k) => `switchover.${k}`, INPUT, '{{from}}') : undefined,
    timeoutMs: durationOf(doc.timeout, '2m', 'timeout', 1000, INPUT),
  });
}

/** How the plan and log name the way the primary is found. */
export function primaryFinder(primary: PrimarySettings): string {
  return primary.selector !== undefined
    ? `the pod labelled ${primary.selector}`
    : `the pod where ${primary.check?.command.join(' ')} exits 0`;
}
