// The templates of analysis checks: a URL (HTTP) or a PromQL query with `{{name}}` placeholders,
// checked when the input is read and filled for each stage (and pod). Pure.

export const QUERY_VARIABLES = ['pods', 'pod', 'namespace', 'statefulset', 'revision', 'stage'] as const;
export const URL_VARIABLES = ['pod', 'ordinal', 'namespace', 'statefulset', 'revision', 'stage'] as const;

/** The `{{name}}` placeholders of a template; throws on an unclosed or empty one. */
export function placeholders(template: string): string[] {
  const names: string[] = [];
  const re = /\{\{\s*([^{}]*?)\s*\}\}/g;
  for (const match of template.matchAll(re)) names.push(match[1] ?? '');
  const rest = template.replace(re, '');
  if (rest.includes('{{') || rest.includes('}}')) throw new Error('has an unclosed "{{" or a stray "}}"');
  return names;
}

/** Fills `{{name}}` placeholders; every name must be in `values` (checked when the input was read). */
export function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_, name: string) => values[name] ?? '');
}

/** The `{{pods}}` value: a regular expression matching exactly these pod names. */
export function podsRegex(pods: readonly string[]): string {
  return pods.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}
