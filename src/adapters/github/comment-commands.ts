// The GitHub side of commands in pull request comments (`command: comment` on issue_comment):
// which comment, by whom, with what permission; reactions; the StatefulSets a pull request
// rolled out (from this action's own sticky comments); and the answer, written into those
// sticky comments, never as a new comment.
import { type Octokit, type RetryPolicy, withRetry } from './api.ts';
import { type Identity, ownComments, resolveIdentity, updateComment } from './comment.ts';
import type { GitHubRunContext, Repository } from './context.ts';

export interface CommentEvent {
  readonly repository: Repository;
  readonly pullRequest: number;
  readonly commentId: number;
  readonly body: string;
  readonly author: string;
}

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

/** The comment to act on, or why this event is not one (ignored, with a notice). */
export function readCommentEvent(run: GitHubRunContext): CommentEvent | { readonly ignore: string } {
  if (run.eventName !== 'issue_comment') {
    return { ignore: `command comment acts on issue_comment events; this is ${run.eventName ?? 'no event'}` };
  }
  const { action, issue, comment } = { ...run.payload } as Record<string, unknown>;
  if (action !== 'created')
    return { ignore: `the comment was ${String(action)}, not created: only new comments act` };
  const pullRequest = record(issue).pull_request;
  const number = record(issue).number;
  if (pullRequest === undefined || typeof number !== 'number')
    return { ignore: 'the comment is on an issue, not a pull request' };
  const user = record(record(comment).user);
  if (user.type === 'Bot') return { ignore: `the comment is by a bot (${String(user.login)})` };
  const id = record(comment).id;
  if (typeof id !== 'number' || typeof user.login !== 'string' || run.repository === undefined) {
    return { ignore: 'the event payload has no comment id, author or repository' };
  }
  const body = record(comment).body;
  return {
    repository: run.repository,
    pullRequest: number,
    commentId: id,
    body: typeof body === 'string' ? body : '',
    author: user.login,
  };
}

export type Reaction = 'eyes' | '+1' | '-1';

export async function react(
  octokit: Octokit,
  policy: RetryPolicy,
  event: CommentEvent,
  content: Reaction,
): Promise<void> {
  await withRetry(policy, (signal) =>
    octokit.rest.reactions.createForIssueComment({
      ...event.repository,
      comment_id: event.commentId,
      content,
      request: { signal },
    }),
  );
}

/**
 * Whether the commenter may run commands: write, maintain or admin on the repository, or a
 * custom repository role based on one of them, as GitHub says (the collaborator permission API),
 * never as the comment's author_association claims. `permission` is GitHub's base permission
 * (maintain folds into write, a custom role into its base); `role_name` may be a custom name.
 * Undefined when the commenter may; else the role to name in the refusal.
 */
export async function mayCommand(
  octokit: Octokit,
  policy: RetryPolicy,
  event: CommentEvent,
): Promise<string | undefined> {
  const answer = await withRetry(policy, (signal) =>
    octokit.rest.repos.getCollaboratorPermissionLevel({
      ...event.repository,
      username: event.author,
      request: { signal },
    }),
  );
  const { permission, role_name: role, user } = answer.data;
  const writes = ['admin', 'maintain', 'write'].includes(permission) || user?.permissions?.push === true;
  return writes ? undefined : role || permission;
}

export interface StickyComment {
  readonly id: number;
  readonly body: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * A rollout comment's marker is its first line, as the action writes it: a marker anywhere else
 * (quoted in a plan diff, in an annotation the report shows) is text, never a target.
 */
const MARKER = /^<!-- statefulset-canary: ([^/\s]+)\/([^/\s]+)\/([^/\s]+) -->(?:\n|$)/;

/**
 * This action's rollout comments on the pull request for kube context `context`, one per
 * StatefulSet (the first: a retried POST may have written two), oldest first.
 */
export async function stickyComments(
  octokit: Octokit,
  policy: RetryPolicy,
  event: CommentEvent,
  context: string,
): Promise<StickyComment[]> {
  const identity: Identity = await resolveIdentity(octokit, policy);
  const found: StickyComment[] = [];
  for await (const c of ownComments(octokit, policy, event, identity)) {
    const match = MARKER.exec(c.body);
    if (!match || decodeURIComponent(match[1] ?? '') !== context) continue;
    const namespace = decodeURIComponent(match[2] ?? '');
    const name = decodeURIComponent(match[3] ?? '');
    if (found.some((s) => s.namespace === namespace && s.name === name)) continue;
    found.push({ id: c.id, body: c.body, namespace, name });
  }
  return found;
}

const ANSWER = '<!-- statefulset-canary answer -->';

/** Writes `markdown` (trusted: rendered by this action) as the answer section of a sticky comment. */
export async function answer(
  octokit: Octokit,
  policy: RetryPolicy,
  event: CommentEvent,
  sticky: StickyComment,
  markdown: string,
): Promise<void> {
  const kept = sticky.body.split(`\n${ANSWER}\n`)[0]?.trimEnd() ?? sticky.body;
  await updateComment(octokit, policy, event.repository, sticky.id, `${kept}\n${ANSWER}\n${markdown}\n`);
}
