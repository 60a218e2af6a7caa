// The JSON paths of HTTP checks (`$.status`, `$.checks[0].ok`, `$["a-b"]`): keys and indexes
// only, enough to reach a value in a health answer. Pure.

/** Parses `$.a.b[0]` (keys and indexes) into its steps; throws with what is wrong. */
export function parseJsonPath(path: string): (string | number)[] {
  if (!path.startsWith('$')) throw new Error('must start with "$" (e.g. $.status or $.checks[0].ok)');
  const steps: (string | number)[] = [];
  const re = /\.([A-Za-z_][\w-]*)|\[(\d+)\]|\["([^"\\]*)"\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const at = re.lastIndex;
    const match = re.exec(path);
    if (!match)
      throw new Error(
        `cannot read it from character ${at + 1}: write keys as .key or ["key"] and indexes as [0]`,
      );
    steps.push(match[1] ?? (match[2] !== undefined ? Number(match[2]) : (match[3] ?? '')));
  }
  return steps;
}

/** The value at a JSON path, or undefined when it is not there. */
export function atJsonPath(value: unknown, path: string): unknown {
  let current = value;
  for (const step of parseJsonPath(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}
