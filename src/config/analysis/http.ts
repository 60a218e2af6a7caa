// An `http:` check: a request to each new pod, through the API server's pod proxy (port and
// path) or to a URL template, judged by its status and optionally a JSON value in the body.
import type { HttpProbe } from '../../engine/analysis.ts';
import { parseJsonPath } from '../../engine/json-path.ts';
import { URL_VARIABLES } from '../../engine/templates.ts';
import { quote } from '../../manifests/names.ts';
import { InputError } from '../input-error.ts';
import {
  type At,
  durationOf,
  headersOf,
  INPUT,
  isMapping,
  type Mapping,
  template,
  thresholdOf,
  unknownKeys,
} from './fields.ts';

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
const METHODS = ['GET', 'HEAD', 'POST'] as const;

export function parseHttp(value: unknown, at: At): HttpProbe {
  if (!isMapping(value))
    throw new InputError(INPUT, `${at('http')} must be a mapping, e.g. http: { port: 8080, path: /healthz }`);
  unknownKeys(value, HTTP_KEYS, at('http'));
  const url = targetOf(value, at);
  const method = value.method === undefined ? 'GET' : String(value.method).toUpperCase();
  if (!(METHODS as readonly string[]).includes(method))
    throw new InputError(
      INPUT,
      `${at('http.method')} ${quote(String(value.method))} is not one of ${METHODS.join(', ')}`,
    );
  const { jsonPath, expect } = bodyConditionOf(value, at);
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

/** The URL template, or undefined for the pod proxy form (port and path); exactly one of them. */
function targetOf(value: Mapping, at: At): string | undefined {
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
  return url;
}

/** json-path and its condition (equals, min, max) come together or not at all. */
function bodyConditionOf(value: Mapping, at: At): Pick<HttpProbe, 'jsonPath' | 'expect'> {
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
  return { jsonPath, expect };
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
