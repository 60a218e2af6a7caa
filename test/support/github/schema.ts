// A small JSON-schema (OpenAPI 3.0 flavour) validator: just the keywords that
// scripts/extract-github-openapi.ts keeps. Returns every problem, each naming where it is.

export interface Schema {
  readonly type?: string;
  readonly nullable?: boolean;
  readonly enum?: readonly unknown[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly oneOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly additionalProperties?: boolean | Schema;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface ValidateOptions {
  /**
   * Reject properties a schema does not list even where GitHub would silently ignore them
   * (no `additionalProperties`): a misspelt field is a bug GitHub would not report.
   */
  readonly strict: boolean;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(expected: string, actual: string): boolean {
  return expected === actual || (expected === 'number' && actual === 'integer');
}

function validateObject(
  schema: Schema,
  value: Record<string, unknown>,
  at: string,
  options: ValidateOptions,
): string[] {
  const problems: string[] = [];
  for (const name of schema.required ?? []) {
    if (!(name in value)) problems.push(`${at}.${name} is required`);
  }
  for (const [name, item] of Object.entries(value)) {
    const property = schema.properties?.[name];
    if (property !== undefined) {
      problems.push(...validate(property, item, `${at}.${name}`, options));
    } else if (typeof schema.additionalProperties === 'object') {
      problems.push(...validate(schema.additionalProperties, item, `${at}.${name}`, options));
    } else if (
      schema.additionalProperties === false ||
      (options.strict && schema.additionalProperties === undefined && schema.properties !== undefined)
    ) {
      problems.push(
        `${at}.${name} is not a property GitHub knows (known: ${Object.keys(schema.properties ?? {}).join(', ')})`,
      );
    }
  }
  return problems;
}

function validateAlternatives(
  schema: Schema,
  value: unknown,
  at: string,
  options: ValidateOptions,
): string[] {
  if (schema.oneOf !== undefined) {
    const matching = schema.oneOf.filter((s) => validate(s, value, at, options).length === 0).length;
    if (matching !== 1) return [`${at} matches ${matching} of the oneOf alternatives, not exactly one`];
  }
  if (schema.anyOf !== undefined && !schema.anyOf.some((s) => validate(s, value, at, options).length === 0)) {
    return [`${at} matches none of the anyOf alternatives`];
  }
  return [];
}

/** Problems with `value` against `schema`; empty when valid. */
export function validate(
  schema: Schema,
  value: unknown,
  at = 'body',
  options: ValidateOptions = { strict: true },
): string[] {
  const actual = typeOf(value);
  if (value === null && schema.nullable === true) return [];
  if (schema.type !== undefined && !typeMatches(schema.type, actual)) {
    return [`${at} must be ${schema.type}, not ${actual}`];
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    return [
      `${at} must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, not ${JSON.stringify(value)}`,
    ];
  }
  const problems = validateAlternatives(schema, value, at, options);
  if (typeof value === 'string' && schema.maxLength !== undefined && value.length > schema.maxLength) {
    problems.push(`${at} is longer than ${schema.maxLength} characters`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      problems.push(`${at} is below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      problems.push(`${at} is above ${schema.maximum}`);
  }
  if (actual === 'array' && schema.items !== undefined) {
    (value as unknown[]).forEach((item, i) => {
      problems.push(...validate(schema.items as Schema, item, `${at}[${i}]`, options));
    });
  }
  if (actual === 'object')
    problems.push(...validateObject(schema, value as Record<string, unknown>, at, options));
  return problems;
}
