// The database gates checked against each StatefulSet before anything changes: every container
// an exec names is in its template, every selector matches pods it has (when it has pods), and
// this run may use pods/exec, Jobs and pod logs where they need them (SelfSubjectAccessReviews,
// one per namespace and permission however many checks ask).
import type { Settings } from '../config/settings.ts';
import type { AnalysisCheck } from '../engine/analysis.ts';
import type { Hook, HookCall } from '../engine/hooks.ts';
import { matches } from '../engine/selector.ts';
import { describe } from '../manifests/checks.ts';
import type { SourcedObject } from '../manifests/load.ts';
import type { Cluster, KubeObject } from '../ports/cluster.ts';
import { containersOf, refOf } from './rollout/objects.ts';

/** What the gates use: the checks, the hooks and the primary of the run. */
export type Gates = Pick<Settings, 'analysis' | 'hooks' | 'primary'>;

/** A permission a gate needs, and the rule of examples/rbac.yaml that grants it. */
interface Need {
  readonly verb: string;
  readonly resource: string;
  readonly who: string;
  readonly rule: string;
}

const EXEC_RULE = 'the exec rule of examples/rbac.yaml (resources: ["pods/exec"], verbs: ["get", "create"])';
const JOB_RULE =
  'the jobs rule of examples/rbac.yaml (apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch", "delete"])';

/** Why a gate cannot run against this StatefulSet, naming the input and the fix; undefined: it can. */
export async function gateProblem(
  cluster: Cluster,
  item: SourcedObject,
  dryRun: KubeObject,
  gates: Gates,
  access: Map<string, Promise<boolean>>,
): Promise<string | undefined> {
  const where = `${describe(item.object)} (${item.source})`;
  const containers = containersOf((dryRun.spec as { template?: unknown } | undefined)?.template);
  const named = [
    ...gates.analysis.flatMap((c) =>
      c.probe.kind === 'exec' ? [[`analysis: check "${c.name}"`, c.probe.container] as const] : [],
    ),
    ...(gates.primary?.check ? [['primary: exec', gates.primary.check.container] as const] : []),
    ...callsOf(gates).flatMap(([who, call]) =>
      call.kind === 'exec' ? [[who, call.container] as const] : [],
    ),
  ];
  for (const [who, container] of named) {
    if (container === undefined || containers.includes(container)) continue;
    return (
      `Input ${who}: container ${container} is not a container of ${where}; its containers are ${containers.join(', ') || 'none'}. ` +
      'Name one of them, or leave container out for the first. Nothing was changed in the cluster.'
    );
  }
  const selectors = await selectorProblem(cluster, item, gates);
  if (selectors !== undefined || !cluster.canI) return selectors;
  const namespace = refOf(item.object).namespace;
  for (const need of needsOf(gates)) {
    const key = `${namespace} ${need.verb} ${need.resource}`;
    if (!access.has(key)) access.set(key, cluster.canI(namespace, need.verb, need.resource));
    if (await access.get(key)) continue;
    return (
      `Input ${need.who} needs ${need.verb} on ${need.resource} in namespace ${namespace}, which this run may not do. ` +
      `Add ${need.rule} (docs/permissions.md). Nothing was changed in the cluster.`
    );
  }
  return undefined;
}

/** The hooks' calls and the switchover, each with the input that names it. */
function callsOf(gates: Gates): (readonly [string, HookCall])[] {
  const hooks = gates.hooks.map((h: Hook) => [`hooks: hook "${h.name}"`, h.call] as const);
  const switchover = gates.primary?.switchover;
  return switchover ? [...hooks, ['primary: switchover', switchover] as const] : hooks;
}

function needsOf(gates: Gates): Need[] {
  const needs: Need[] = [];
  const kinds = (who: string, kind: string) => {
    // An exec over a WebSocket is a GET upgrade: the API server asks for get and create.
    if (kind === 'exec')
      for (const verb of ['get', 'create']) needs.push({ verb, resource: 'pods/exec', who, rule: EXEC_RULE });
    if (kind === 'job')
      for (const verb of ['create', 'get', 'watch', 'delete'])
        needs.push({ verb, resource: 'jobs.batch', who, rule: JOB_RULE });
  };
  for (const check of gates.analysis) kinds(`analysis: check "${check.name}"`, check.probe.kind);
  if (gates.primary?.check) kinds('primary: exec', 'exec');
  for (const [who, call] of callsOf(gates)) kinds(who, call.kind);
  return needs;
}

/**
 * Selectors against the live pods: a before-check's `pods` and the primary's `selector` must
 * match at least one pod, and the primary's exactly one. A StatefulSet with no pods yet is left
 * to the run (there is nothing to restart).
 */
async function selectorProblem(
  cluster: Cluster,
  item: SourcedObject,
  gates: Gates,
): Promise<string | undefined> {
  const selectors: [string, string, 'some' | 'one'][] = gates.analysis
    .filter((c: AnalysisCheck) => c.when === 'before' && c.pods !== undefined)
    .map((c) => [`analysis: check "${c.name}": pods`, c.pods ?? '', 'some']);
  if (gates.primary?.selector) selectors.push(['primary: selector', gates.primary.selector, 'one']);
  if (selectors.length === 0) return undefined;
  const live = await cluster.observe(refOf(item.object));
  const pods = live?.pods ?? [];
  if (pods.length === 0) return undefined;
  for (const [who, selector, want] of selectors) {
    const found = pods.filter((p) => matches(selector, p.labels ?? {})).map((p) => p.name);
    if (found.length === 0 || (want === 'one' && found.length > 1))
      return (
        `Input ${who} ${selector} matches ${found.length === 0 ? 'no pod' : `${found.length} pods (${found.join(', ')})`} of ${describe(item.object)}; ` +
        `${want === 'one' ? 'a primary selector must match the primary only' : 'name a label its pods have'} (kubectl get pods -l '${selector}' shows what it matches). ` +
        'Nothing was changed in the cluster.'
      );
  }
  return undefined;
}
