// Label selectors in the text form kubectl -l takes (`role=primary`, `tier!=cache`,
// `env in (a,b)`, `!legacy`), matched against a pod's labels. Pure. The input parsers check the
// shape; `matches` reads a selector they accepted.

/** Whether `labels` satisfy every requirement of `selector`. */
export function matches(selector: string, labels: Readonly<Record<string, string>>): boolean {
  return requirements(selector).every((r) => holds(r, labels));
}

function requirements(selector: string): string[] {
  return selector
    .split(/,(?![^()]*\))/)
    .map((r) => r.trim())
    .filter((r) => r !== '');
}

function holds(requirement: string, labels: Readonly<Record<string, string>>): boolean {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(requirement);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = list.split(',').map((v) => v.trim());
    const has = key in labels && values.includes(labels[key] ?? '');
    return op === 'in' ? has : !has;
  }
  const pair = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(requirement);
  if (pair) {
    const [, key = '', op, value = ''] = pair;
    return op === '!=' ? labels[key] !== value : labels[key] === value;
  }
  if (requirement.startsWith('!')) return !(requirement.slice(1) in labels);
  return requirement in labels;
}
