// The `analysis` input: a YAML list of checks, read and validated whole before anything in the
// cluster changes. Every problem is one InputError naming the check and the key.
import { CORE_SCHEMA, load } from 'js-yaml';
import {
  type AnalysisCheck,
  type HttpProbe,
  type OnNoData,
  type PrometheusProbe,
  parseJsonPath,
  placeholders,
  QUERY_VARIABLES,
  type Threshold,
  URL_VARIABLES,
} from '../../engine/analysis.ts';
import { quote } from '../../manifests/names.ts';
import { DURATION_FORM, DurationError, parseDuration } from '../duration.ts';
import { InputError } from '../input-error.ts';

const INPUT = 'analysis';
const CHECK_KEYS = ['name', 'interval', 'count', 'failure-limit', 'dry-run', 'stages', 'http', 'prometheus'];
const HTTP_KEYS = [
  'port',
  'path',
  'url',
  'method',
  'status',
  'json-path',
  'equals',
  'min',
  'max',
  'timeout',
  'headers',
];
const PROM_KEYS = [
  'address',
  'query',
  'min',
  'max',
  'on-no-data',
  'headers',
  'bearer-token',
  'error-limit',
  'timeout',
];
const METHODS = ['GET', 'HEAD', 'POST'] as const;
const NO_DATA: readonly OnNoData[] = ['wait', 'fail', 'pass'];
const MAX_CHECKS = 20;

type Mapping = Record<string, unknown>;

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
  const kinds = ['http', 'prometheus'].filter((k) => item[k] !== undefined);
  if (kinds.length !== 1) {
    throw new InputError(
      INPUT,
      `check ${quote(name)} ${kinds.length ? 'has both http and prometheus' : 'has neither http nor prometheus'}; give it exactly one`,
    );
  }
  const intervalMs = durationOf(item.interval, '10s', at('interval'), 100);
  const probe = item.http !== undefined ? parseHttp(item.http, at) : parsePrometheus(item.prometheus, at);
  return Object.freeze({
    name,
    intervalMs,
    count: countOf(item.count, at('count')),
    failureLimit: integerOf(item['failure-limit'], 0, 0, 1000, at('failure-limit')),
    dryRun: booleanOf(item['dry-run'], false, at('dry-run')),
    stages: stagesOf(item.stages, stageCount, at('stages')),
    probe,
  });
}

function parseHttp(value: unknown, at: (key: string) => string): HttpProbe {
  if (!isMapping(value))
    throw new InputError(INPUT, `${at('http')} must be a mapping, e.g. http: { port: 8080, path: /healthz }`);
  unknownKeys(value, HTTP_KEYS, at('http'));
  const url = value.url === undefined ? undefined : urlTemplate(value.url, at('http.url'));
  if (url !== undefined && (value.port !== undefined || value.path !== undefined)) {
    throw new InputError(
      INPUT,
      `${at('http')} has url and port/path; use url (the runner reaches the pods itself) or port and path (through the API server's pod proxy), not both`,
    );
  }
  if (url === undefined && value.port === undefined) {
    throw new InputError(
      INPUT,
      `${at('http.port')} is missing; name the container port (a number or the port's name, e.g. port: http), or give url`,
    );
  }
  const method = value.method === undefined ? 'GET' : String(value.method).toUpperCase();
  if (!(METHODS as readonly string[]).includes(method))
    throw new InputError(
      INPUT,
      `${at('http.method')} ${quote(String(value.method))} is not one of ${METHODS.join(', ')}`,
    );
  const jsonPath =
    value['json-path'] === undefined ? undefined : jsonPathOf(value['json-path'], at('http.json-path'));
  const expect = thresholdOf(value, at, 'http');
  if (jsonPath !== undefined && expect === undefined)
    throw new InputError(INPUT, `${at('http.json-path')} needs a condition: equals, min or max`);
  if (jsonPath === undefined && expect !== undefined)
    throw new InputError(
      INPUT,
      `${at('http')}: equals, min and max apply to json-path; add json-path (e.g. $.status)`,
    );
  return Object.freeze({
    kind: 'http',
    method: method as HttpProbe['method'],
    port: url === undefined ? portOf(value.port, at('http.port')) : undefined,
    path: url === undefined ? pathOf(value.path, at('http.path')) : '',
    url,
    status: statusesOf(value.status, at('http.status')),
    jsonPath,
    expect,
    headers: headersOf(value.headers, at('http.headers')),
    timeoutMs: durationOf(value.timeout, '5s', at('http.timeout'), 1),
  });
}

function parsePrometheus(value: unknown, at: (key: string) => string): PrometheusProbe {
  if (!isMapping(value))
    throw new InputError(INPUT, `${at('prometheus')} must be a mapping with address, query and min or max`);
  unknownKeys(value, PROM_KEYS, at('prometheus'));
  const address = addressOf(value.address, at('prometheus.address'));
  if (typeof value.query !== 'string' || value.query.trim() === '')
    throw new InputError(
      INPUT,
      `${at('prometheus.query')} is missing; write a PromQL query giving one number a series`,
    );
  const query = template(value.query, QUERY_VARIABLES, at('prometheus.query'));
  if (placeholders(query).includes('pod') && placeholders(query).includes('pods'))
    throw new InputError(
      INPUT,
      `${at('prometheus.query')} uses both {{pod}} and {{pods}}; use one: {{pod}} runs the query once a pod, {{pods}} once for all`,
    );
  const threshold = thresholdOf(value, at, 'prometheus');
  if (threshold === undefined || threshold.equals !== undefined)
    throw new InputError(
      INPUT,
      `${at('prometheus')} needs min or max (the value the query may not go below or above)`,
    );
  const headers = { ...headersOf(value.headers, at('prometheus.headers')) };
  if (value['bearer-token'] !== undefined) {
    if (typeof value['bearer-token'] !== 'string' || value['bearer-token'].trim() === '')
      throw new InputError(
        INPUT,
        `${at('prometheus.bearer-token')} is empty; pass the token from a secret, or leave the key out`,
      );
    headers.Authorization = `Bearer ${value['bearer-token'].trim()}`;
  }
  const onNoData = value['on-no-data'] === undefined ? 'wait' : String(value['on-no-data']);
  if (!(NO_DATA as readonly string[]).includes(onNoData))
    throw new InputError(
      INPUT,
      `${at('prometheus.on-no-data')} ${quote(onNoData)} is not one of ${NO_DATA.join(', ')}`,
    );
  return Object.freeze({
    kind: 'prometheus',
    address,
    query,
    threshold,
    onNoData: onNoData as OnNoData,
    headers: Object.freeze(headers),
    errorLimit: integerOf(value['error-limit'], 3, 0, 1000, at('prometheus.error-limit')),
    timeoutMs: durationOf(value.timeout, '10s', at('prometheus.timeout'), 1),
  });
}

/** The secret values of the checks (bearer tokens, header values), for masking in logs. */
export function analysisSecrets(checks: readonly AnalysisCheck[]): string[] {
  return checks.flatMap((c) =>
    Object.entries(c.probe.headers)
      .filter(([k]) => /^(authorization|x-api-key|cookie)$/i.test(k))
      .map(([, v]) => v),
  );
}

// ---- values ----

function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function unknownKeys(value: Mapping, known: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new InputError(
        INPUT,
        `${where} has an unknown key ${quote(key)}; the keys are ${known.join(', ')}`,
      );
  }
}

function durationOf(value: unknown, fallback: string, where: string, minMs: number): number {
  const text = value === undefined ? fallback : String(value);
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    if (error instanceof DurationError) throw new InputError(INPUT, `${where}: ${error.message}`);
    throw error;
  }
  if (ms < minMs)
    throw new InputError(
      INPUT,
      `${where} ${quote(text)} is too short; write at least ${minMs}ms (${DURATION_FORM})`,
    );
  return ms;
}

function integerOf(value: unknown, fallback: number, min: number, max: number, where: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InputError(
      INPUT,
      `${where} ${quote(String(value))} is not a whole number from ${min} to ${max}`,
    );
  return value;
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

function portOf(value: unknown, where: string): number | string {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 1 && value <= 65_535) return value;
  } else if (typeof value === 'string' && /^[a-z0-9]([a-z0-9-]{0,13})$/.test(value) && /[a-z]/.test(value)) {
    return value;
  }
  throw new InputError(
    INPUT,
    `${where} ${quote(String(value))} is neither a port number (1-65535) nor a container port name (up to 15 lower-case letters, digits, "-")`,
  );
}

function pathOf(value: unknown, where: string): string {
  const path = value === undefined ? '/' : String(value);
  if (!path.startsWith('/') || /[\s#]/.test(path) || path.includes('..'))
    throw new InputError(
      INPUT,
      `${where} ${quote(path)} is not a path on the pod; write one starting with "/", e.g. /healthz`,
    );
  return path;
}

function statusesOf(value: unknown, where: string): readonly number[] {
  if (value === undefined) return Object.freeze([]);
  const list = Array.isArray(value) ? value : [value];
  for (const code of list) {
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599)
      throw new InputError(
        INPUT,
        `${where} ${quote(String(code))} is not an HTTP status code (100-599); list codes, e.g. [200, 204]`,
      );
  }
  return Object.freeze([...(list as number[])]);
}

function jsonPathOf(value: unknown, where: string): string {
  const path = String(value);
  try {
    parseJsonPath(path);
  } catch (error) {
    throw new InputError(INPUT, `${where} ${quote(path)} ${(error as Error).message}`);
  }
  return path;
}

function thresholdOf(value: Mapping, at: (key: string) => string, kind: string): Threshold | undefined {
  const min = value.min;
  const max = value.max;
  const equals = kind === 'http' ? value.equals : undefined;
  if (min === undefined && max === undefined && equals === undefined) return undefined;
  for (const [key, bound] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (bound !== undefined && (typeof bound !== 'number' || !Number.isFinite(bound)))
      throw new InputError(INPUT, `${at(`${kind}.${key}`)} ${quote(String(bound))} is not a number`);
  }
  if (typeof min === 'number' && typeof max === 'number' && min > max)
    throw new InputError(INPUT, `${at(kind)}: min ${min} is above max ${max}; no value could pass`);
  if (equals !== undefined && (min !== undefined || max !== undefined))
    throw new InputError(
      INPUT,
      `${at(kind)} has equals and min/max; use equals for a value, min/max for a range`,
    );
  if (equals !== undefined && !['string', 'number', 'boolean'].includes(typeof equals))
    throw new InputError(INPUT, `${at('http.equals')} must be a string, number or true/false`);
  return Object.freeze({
    min: min as number | undefined,
    max: max as number | undefined,
    equals: equals as Threshold['equals'],
  });
}

function headersOf(value: unknown, where: string): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (!isMapping(value)) throw new InputError(INPUT, `${where} must be a mapping of header names to values`);
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (
      !/^[A-Za-z0-9-]{1,64}$/.test(name) ||
      /^(host|content-length|transfer-encoding|connection)$/i.test(name)
    )
      throw new InputError(INPUT, `${where} ${quote(name)} is not a header this check may set`);
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new InputError(INPUT, `${where}.${name} must be text`);
    if (/[\r\n]/.test(String(v)))
      throw new InputError(INPUT, `${where}.${name} has a line break; a header value is one line`);
    headers[name] = String(v);
  }
  return Object.freeze(headers);
}

function addressOf(value: unknown, where: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username)
    throw new InputError(
      INPUT,
      `${where} ${quote(text || 'is missing')}${text ? ' is not' : ''} a Prometheus base URL; write e.g. http://prometheus.monitoring:9090`,
    );
  return text.replace(/\/+$/, '');
}

function urlTemplate(value: unknown, where: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  const url = template(text, URL_VARIABLES, where);
  const sample = url.replace(/\{\{[^}]*\}\}/g, 'x');
  let parsed: URL | undefined;
  try {
    parsed = new URL(sample);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol))
    throw new InputError(
      INPUT,
      `${where} ${quote(text)} is not an http(s) URL, e.g. http://{{pod}}.db.{{namespace}}.svc:8080/healthz`,
    );
  return url;
}

function template(text: string, allowed: readonly string[], where: string): string {
  let names: string[];
  try {
    names = placeholders(text);
  } catch (error) {
    throw new InputError(
      INPUT,
      `${where} ${(error as Error).message}; placeholders are ${allowed.map((v) => `{{${v}}}`).join(', ')}`,
    );
  }
  for (const name of names) {
    if (!allowed.includes(name))
      throw new InputError(
        INPUT,
        `${where} has an unknown placeholder {{${name}}}; the placeholders are ${allowed.map((v) => `{{${v}}}`).join(', ')}`,
      );
  }
  return text;
}
