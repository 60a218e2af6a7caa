// A command from a pull request comment (/canary promote, abort, rollback) acts only on what that
// pull request rolled out, at the revision it rolled out, in the kube context it rolled out to.
// The recorded state on the StatefulSet (state.ts) decides, never the text of any comment: a
// comment can name a StatefulSet, but only the state the action wrote makes it the pull request's.
import type { RecordedState } from './state.ts';

/** The pull request a comment command came from, and the workflow's kube context. */
export interface Owner {
  readonly pullRequest: number;
  readonly context: string;
}

/** Who a recorded state says rolled the live revision out, in words. */
function ownerText(state: RecordedState): string {
  const by =
    state.pullRequest === undefined ? 'a run of no pull request' : `pull request #${state.pullRequest}`;
  return `${state.kind === 'rollback' ? 'rolled back' : 'rolled out'} by ${by} (${state.phase})`;
}

/**
 * Why `command` from pull request `owner.pullRequest` may not act on a StatefulSet whose recorded
 * state is `state` and whose live `status.updateRevision` is `live`; undefined when it may.
 * `where` names the StatefulSet.
 */
export function notOwnedProblem(
  where: string,
  state: RecordedState | undefined,
  live: string,
  owner: Owner,
): string | undefined {
  const pr = `pull request #${owner.pullRequest}`;
  const only = `/canary acts only on what ${pr} rolled out`;
  if (state === undefined)
    return `${where} runs revision ${live} with no rollout recorded by statefulset-canary: ${only}`;
  if (state.pullRequest !== owner.pullRequest)
    return `${where} runs revision ${live}, ${ownerText(state)}: ${only}. Comment on the pull request that owns it.`;
  if (state.context !== undefined && state.context !== owner.context)
    return `${where} was rolled out to kube context ${state.context}, not ${owner.context}: ${only} in this context.`;
  if (state.kind === 'rollback' || state.phase === 'rolled-back')
    return `${where} was already ${ownerText(state)} to ${state.targetRevision}: nothing ${pr} rolled out is live to act on.`;
  if (live !== state.targetRevision)
    return `${where} runs revision ${live}, not ${state.targetRevision} that ${pr} rolled out: the template changed since; ${only}.`;
  return undefined;
}
