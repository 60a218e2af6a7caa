// The templates of analysis checks: a URL (HTTP) or a PromQL query with `{{name}}` placeholders,
// checked when the input is read and filled for each stage (and pod). Pure.

export const QUERY_VARIABLES = ['pods', 'pod', 'namespace', 'statefulset', 'revision', 'stage'] as const;
export const URL_VARIABLES = ['pod', 'ordinal', 'namespace', 'statefulset', 'revision', 'stage'] as const;
/** A Job's template: `{{pod}}` is the stage's first new pod, `{{pods}}` all of them, comma-separated. */
export const JOB_VARIABLES = ['pod', 'pods', 'namespace', 'statefulset', 'revision', 'stage'] as const;
/** Hooks and switchovers: also the primary's pod (`{{from}}`) and the pod it moves to (`{{to}}`). */
export const HOOK_VARIABLES = [...JOB_VARIABLES, 'event', 'from', 'to', 'primary'] as const;

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

/** A copy of `value` with `{{name}}` filled in every string, at any depth (a Job template). */
export function fillDeep<T>(value: T, values: Readonly<Record<string, string>>): T {
  if (typeof value === 'string') return fill(value, values) as T;
  if (Array.isArray(value)) return value.map((item) => fillDeep(item, values)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, values)])) as T;
  return value;
}
