// Extracts the few GitHub REST operations the reporter uses from GitHub's published OpenAPI
// description into a small committed fixture, test/fixtures/github-openapi.json. The fake GitHub
// server in test/support/github/ rejects any request that does not match it.
//
// The full description is large (the @octokit/openapi package is ~385 MB), so it is not a
// dependency. To regenerate the fixture:
//
//   npm install --no-save @octokit/openapi@23.0.2
//   node scripts/extract-github-openapi.ts
//
// (use a newer version to pick up API changes; the fixture records the version it came from).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The operations the reporter calls: [method, path]. */
const operations: ReadonlyArray<readonly [string, string]> = [
  ['get', '/user'],
  ['get', '/repos/{owner}/{repo}/commits/{commit_sha}/pulls'],
  ['get', '/repos/{owner}/{repo}/compare/{basehead}'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['patch', '/repos/{owner}/{repo}/issues/comments/{comment_id}'],
  ['post', '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions'],
  ['get', '/repos/{owner}/{repo}/collaborators/{username}/permission'],
  ['post', '/repos/{owner}/{repo}/deployments'],
  ['post', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses'],
];

/** Schema keywords the fake server's validator understands; everything else (docs, examples) is dropped. */
const kept = new Set([
  'type',
  'nullable',
  'enum',
  'required',
  'properties',
  'items',
  'oneOf',
  'anyOf',
  'additionalProperties',
  'maxLength',
  'minimum',
  'maximum',
]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function simplify(schema: Json): Json {
  if (!isObject(schema)) return schema;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!kept.has(key)) continue;
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, simplify(sub)]));
    } else if ((key === 'oneOf' || key === 'anyOf') && Array.isArray(value)) {
      out[key] = value.map(simplify);
    } else if (key === 'items' || (key === 'additionalProperties' && isObject(value))) {
      out[key] = simplify(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function get(value: Json | undefined, ...keys: string[]): Json | undefined {
  let current = value;
  for (const key of keys) current = isObject(current) ? current[key] : undefined;
  return current;
}

function extractOperation(spec: Json, method: string, path: string): Json {
  const op = get(spec, 'paths', path, method);
  if (!isObject(op)) throw new Error(`${method.toUpperCase()} ${path} is not in the OpenAPI description`);
  const parameters = Array.isArray(op.parameters) ? op.parameters : [];
  const body = get(op, 'requestBody', 'content', 'application/json', 'schema');
  const responses = isObject(op.responses) ? Object.keys(op.responses) : [];
  const success = responses.find((code) => code.startsWith('2'));
  const responseSchema = success
    ? get(op, 'responses', success, 'content', 'application/json', 'schema')
    : undefined;
  return {
    method,
    path,
    operationId: op.operationId ?? null,
    parameters: parameters.filter(isObject).map((p) => ({
      name: p.name ?? null,
      in: p.in ?? null,
      required: p.required === true,
      schema: simplify(p.schema ?? null),
    })),
    requestBody:
      body === undefined
        ? null
        : { required: get(op, 'requestBody', 'required') === true, schema: simplify(body) },
    responses,
    // Only the top level: enough for the fake server to check its own answers are plausible.
    responseRequired: (get(responseSchema, 'required') ??
      get(responseSchema, 'items', 'required') ??
      null) as Json,
  };
}

function main(): void {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@octokit/openapi/package.json');
  const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  const specPath = packageJson.replace(/package\.json$/, 'generated/api.github.com.deref.json');
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Json;
  const fixture = {
    source: `@octokit/openapi@${version} generated/api.github.com.deref.json`,
    generatedBy: 'scripts/extract-github-openapi.ts',
    operations: operations.map(([method, path]) => extractOperation(spec, method, path)),
  };
  const out = new URL('../test/fixtures/github-openapi.json', import.meta.url);
  writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${out.pathname}: ${operations.length} operations from @octokit/openapi@${version}`);
}

main();
