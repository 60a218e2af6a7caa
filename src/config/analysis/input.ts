// The `analysis` input: a YAML list of checks, read and validated whole before anything in the
// cluster changes. Every problem is one InputError naming the check and the key. This file reads
// the list and the fields every check has; http.ts and prometheus.ts read each kind's own.
import { CORE_SCHEMA, load } from 'js-yaml';
import type { AnalysisCheck } from '../../engine/analysis.ts';
import type { Hook } from '../../engine/hooks.ts';
import { quote } from '../../manifests/names.ts';
import { InputError } from '../input-error.ts';
import type { PrimarySettings } from '../primary.ts';
import { parseExec } from './exec.ts';
import { durationOf, INPUT, integerOf, isMapping, selectorOf, unknownKeys } from './fields.ts';
import { parseHttp } from './http.ts';
import { parseJob } from './job.ts';
import { parsePrometheus } from './prometheus.ts';

const KINDS = ['http', 'prometheus', 'exec', 'job'] as const;
const CHECK_KEYS = [
  'name',
  'when',
  'interval',
  'count',
  'failure-limit',
  'dry-run',
  'stages',
  'pods',
  'timeout',
  ...KINDS,
];
const MAX_CHECKS = 20;

/** An example to end errors with, so the fix is one copy away. */
const EXAMPLE = 'e.g.\n- name: healthz\n  http: { port: http, path: /healthz }\n  interval: 5s\n  count: 3';

/** Reads the `analysis` input; empty: no checks. `stageCount` bounds `stages`. */
export function parseAnalysis(text: string, stageCount: number): readonly AnalysisCheck[] {
  if (text.trim() === '') return Object.freeze([]);
  let doc: unknown;
  try {
    doc = load(text, { schema: CORE_SCHEMA, json: false });
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new InputError(INPUT, `is not valid YAML (${why}); write a list of checks, ${EXAMPLE}`);
  }
  if (!Array.isArray(doc)) throw new InputError(INPUT, `must be a YAML list of checks, ${EXAMPLE}`);
  if (doc.length > MAX_CHECKS) throw new InputError(INPUT, `has ${doc.length} checks; at most ${MAX_CHECKS}`);
  const names = new Set<string>();
  return Object.freeze(
    doc.map((item, index) => {
      const check = parseCheck(item, index, stageCount);
      if (names.has(check.name))
        throw new InputError(
          INPUT,
          `two checks are named ${quote(check.name)}; give each check its own name`,
        );
      names.add(check.name);
      return check;
    }),
  );
}

function parseCheck(item: unknown, index: number, stageCount: number): AnalysisCheck {
  const where = `check ${index + 1}`;
  if (!isMapping(item)) throw new InputError(INPUT, `${where} is not a mapping; ${EXAMPLE}`);
  const name = item.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/.test(name)) {
    throw new InputError(
      INPUT,
      `${where}: name ${name === undefined ? 'is missing' : `${quote(String(name))} is not a name`}; ` +
        'give each check a name of lower-case letters, digits and "-" (up to 40), e.g. name: error-rate',
    );
  }
  const at = (key: string) => `check ${quote(name)}: ${key}`;
  unknownKeys(item, CHECK_KEYS, `check ${quote(name)}`);
  const kinds = KINDS.filter((k) => item[k] !== undefined);
  if (kinds.length !== 1) {
    throw new InputError(
      INPUT,
      `check ${quote(name)} ${kinds.length ? `has ${kinds.join(' and ')}` : 'has no kind'}; give it exactly one of ${KINDS.join(', ')}`,
    );
  }
  const when = whenOf(item.when, at('when'));
  const intervalMs = durationOf(item.interval, when === 'before' ? '5s' : '10s', at('interval'), 100);
  const probe = probeOf(item, kinds[0] ?? 'http', at);
  if (when === 'after') {
    for (const key of ['pods', 'timeout'])
      if (item[key] !== undefined)
        throw new InputError(
          INPUT,
          `${at(key)} is for before-checks (when: before); a check after a stage measures that stage's new pods for its count of rounds`,
        );
  } else if (item['failure-limit'] !== undefined) {
    throw new InputError(
      INPUT,
      `${at('failure-limit')} does not apply to a before-check: it retries every interval until it passes or its timeout ends`,
    );
  }
  return Object.freeze({
    name,
    intervalMs,
    count: when === 'before' && item.count === undefined ? 1 : countOf(item.count, at('count')),
    failureLimit: integerOf(item['failure-limit'], 0, 0, 1000, at('failure-limit')),
    dryRun: booleanOf(item['dry-run'], false, at('dry-run')),
    stages: stagesOf(item.stages, stageCount, at('stages')),
    probe,
    when,
    pods: when === 'before' ? selectorOf(item.pods, at('pods')) : undefined,
    timeoutMs: when === 'before' ? durationOf(item.timeout, '5m', at('timeout'), 1000) : undefined,
  });
}

function probeOf(item: Record<string, unknown>, kind: (typeof KINDS)[number], at: (key: string) => string) {
  switch (kind) {
    case 'http':
      return parseHttp(item.http, at);
    case 'prometheus':
      return parsePrometheus(item.prometheus, at);
    case 'exec':
      return parseExec(item.exec, at);
    case 'job':
      return parseJob(item.job, at);
  }
}

function whenOf(value: unknown, where: string): AnalysisCheck['when'] {
  if (value === undefined || value === 'after') return 'after';
  if (value === 'before') return 'before';
  throw new InputError(
    INPUT,
    `${where} ${quote(String(value))} is not before or after; before: is it safe to restart the next pods? after (default): are the stage's new pods good?`,
  );
}

/** The secret values of the inputs: the kubeconfig, the GitHub token, the checks' and the hooks' (masked everywhere). */
export function settingsSecrets(settings: {
  readonly kubeconfig: string | undefined;
  readonly github: { readonly token: string };
  readonly analysis: readonly AnalysisCheck[];
  readonly hooks?: readonly Hook[];
  readonly primary?: PrimarySettings | undefined;
}): string[] {
  const calls = [...(settings.hooks ?? []).map((h) => h.call), settings.primary?.switchover];
  const hookHeaders = calls.flatMap((c) => (c?.kind === 'http' ? secretHeaders(c.headers) : []));
  const all = [
    settings.kubeconfig,
    settings.github.token,
    ...analysisSecrets(settings.analysis),
    ...hookHeaders,
  ];
  return all.filter((s): s is string => s !== undefined && s !== '');
}

/** The values of headers that carry credentials. */
function secretHeaders(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers)
    .filter(([k]) => /^(authorization|x-api-key|cookie)$/i.test(k))
    .map(([, v]) => v);
}

/** The secret values of the checks (bearer tokens, header values), for masking in logs. */
export function analysisSecrets(checks: readonly AnalysisCheck[]): string[] {
  return checks.flatMap((c) => secretHeaders('headers' in c.probe ? c.probe.headers : {}));
}

function countOf(value: unknown, where: string): number | 'soak' {
  if (value === undefined) return 3;
  if (value === 'soak') return 'soak';
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000)
    throw new InputError(
      INPUT,
      `${where} ${quote(String(value))} is not a number of rounds (1 or more) or "soak" (as many intervals as the soak holds)`,
    );
  return value;
}

function booleanOf(value: unknown, fallback: boolean, where: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new InputError(INPUT, `${where} ${quote(String(value))} is not true or false`);
  return value;
}

function stagesOf(value: unknown, stageCount: number, where: string): readonly number[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0)
    throw new InputError(
      INPUT,
      `${where} is empty; list stage numbers (e.g. [1]) or leave the key out for every stage`,
    );
  for (const stage of list) {
    if (typeof stage !== 'number' || !Number.isInteger(stage) || stage < 1)
      throw new InputError(INPUT, `${where} ${quote(String(stage))} is not a stage number (1 or more)`);
    if (stage > stageCount)
      throw new InputError(
        INPUT,
        `${where} names stage ${stage}, but the steps give at most ${stageCount} stage${stageCount === 1 ? '' : 's'}`,
      );
  }
  return Object.freeze([...new Set(list as number[])].sort((a, b) => a - b));
}
