// GitHub's published contract for the operations the reporter uses (test/fixtures/github-openapi.json,
// extracted from @octokit/openapi), and the check of one request against it.
import { readFileSync } from 'node:fs';
import { type Schema, validate } from './schema.ts';

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly schema: Schema;
}

export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly operationId: string;
  readonly parameters: readonly Parameter[];
  readonly requestBody: { readonly required: boolean; readonly schema: Schema } | null;
  readonly responses: readonly string[];
}

interface Fixture {
  readonly source: string;
  readonly operations: readonly Operation[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/github-openapi.json', import.meta.url), 'utf8'),
) as Fixture;

export const openApiSource = fixture.source;

export interface Matched {
  readonly operation: Operation;
  readonly params: Readonly<Record<string, string>>;
}

function pattern(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

const compiled = fixture.operations.map((operation) => ({ operation, regex: pattern(operation.path) }));

/** The operation a method and path name, with its path parameters; undefined: not in GitHub's API. */
export function matchOperation(method: string, path: string): Matched | undefined {
  for (const { operation, regex } of compiled) {
    if (operation.method !== method.toLowerCase()) continue;
    const match = regex.exec(path);
    if (match !== null) {
      const params = Object.fromEntries(
        Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
      );
      return { operation, params };
    }
  }
  return undefined;
}

function coerce(schema: Schema, raw: string): unknown {
  if (schema.type === 'integer' || schema.type === 'number')
    return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  if (schema.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

/** Every way the request departs from the operation's description; empty when it conforms. */
export function checkRequest(
  matched: Matched,
  query: URLSearchParams,
  body: string,
  contentType: string | undefined,
): string[] {
  const { operation, params } = matched;
  const problems: string[] = [];
  for (const parameter of operation.parameters) {
    const raw = parameter.in === 'path' ? params[parameter.name] : (query.get(parameter.name) ?? undefined);
    if (parameter.in === 'header') continue;
    if (raw === undefined) {
      if (parameter.required) problems.push(`${parameter.in} parameter ${parameter.name} is required`);
      continue;
    }
    problems.push(
      ...validate(
        parameter.schema,
        coerce(parameter.schema, raw),
        `${parameter.in} parameter ${parameter.name}`,
      ),
    );
  }
  for (const name of query.keys()) {
    if (!operation.parameters.some((p) => p.in === 'query' && p.name === name)) {
      problems.push(`query parameter ${name} is not one of ${operation.operationId}'s`);
    }
  }
  if (operation.requestBody === null) {
    if (body !== '') problems.push(`${operation.operationId} takes no request body`);
    return problems;
  }
  if (body === '') {
    if (operation.requestBody.required) problems.push(`${operation.operationId} needs a JSON body`);
    return problems;
  }
  if (!contentType?.startsWith('application/json'))
    problems.push(`content-type must be application/json, not ${contentType}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [...problems, 'the body is not JSON'];
  }
  return [...problems, ...validate(operation.requestBody.schema, parsed)];
}
