// The sticky pull request comment: one per StatefulSet, found again by a hidden marker AND by
// its author being the token's own identity, so a comment anyone else wrote with the same
// marker is never taken over (nor is ours hidden by a copy). When the identity cannot be learned
// (a GitHub App token where GraphQL is unavailable), the marker is matched on comments written
// by a bot: a person can paste the marker, but cannot post as a bot.
import { createHash } from 'node:crypto';
import { type Fleet, memberKey } from '../../engine/fleet.ts';
import { GitHubError, type Octokit, type RetryPolicy, withRetry } from './api.ts';
import type { Repository } from './context.ts';

/** GitHub rejects comment bodies above 65536 characters: ours stay below this. */
export const maxBody = 65_000;

/** The hidden marker; each part is URI-encoded so no name can end the HTML comment early. */
export function commentMarker(context: string, namespace: string, name: string): string {
  return `<!-- statefulset-canary: ${[context, namespace, name].map(encodeURIComponent).join('/')} -->`;
}

/**
 * The hidden marker of a StatefulSet's plan comment (`command: plan` on a pull request), beside
 * its rollout comment; without a StatefulSet, the plan of manifests that have none (or a refusal
 * that names none).
 */
export function planMarker(context: string, target?: { namespace: string; name: string }): string {
  const parts = target === undefined ? [context] : [context, target.namespace, target.name];
  return `<!-- statefulset-canary plan: ${parts.map(encodeURIComponent).join('/')} -->`;
}

/** Who the token writes comments as, or that it could not be learned. */
export type Identity =
  | { readonly login: string; readonly via: 'rest' | 'graphql' | 'comment' }
  | { readonly login: undefined; readonly via: 'unknown' };

export interface CommentAuthor {
  readonly login: string;
  readonly type?: string;
}

/** A comment is ours when its author is the token's identity (bots may show with or without `[bot]`). */
function isOwnComment(identity: Identity, author: CommentAuthor | null | undefined): boolean {
  if (author === null || author === undefined) return false;
  if (identity.login === undefined) return author.type === 'Bot';
  if (author.login === identity.login) return true;
  const bare = identity.login.replace(/\[bot\]$/, '');
  return identity.via !== 'rest' && author.type === 'Bot' && author.login === `${bare}[bot]`;
}

/**
 * GET /user answers for personal access tokens. Installation tokens (GITHUB_TOKEN, GitHub
 * App tokens) get 403 "Resource not accessible by integration" there, but GraphQL's
 * `viewer` answers with the app's bot login. If both fail, the identity is unknown (and is
 * learned from the first comment this run writes).
 */
export async function resolveIdentity(octokit: Octokit, policy: RetryPolicy): Promise<Identity> {
  try {
    const user = await withRetry(policy, (signal) =>
      octokit.rest.users.getAuthenticated({ request: { signal } }),
    );
    return { login: user.data.login, via: 'rest' };
  } catch (error) {
    if (!(error instanceof GitHubError) || (error.kind !== 'forbidden' && error.kind !== 'not-found'))
      throw error;
  }
  try {
    const answer = await withRetry(policy, (signal) =>
      octokit.graphql<{ viewer: { login: string } }>('query { viewer { login } }', { request: { signal } }),
    );
    if (typeof answer.viewer?.login === 'string' && answer.viewer.login !== '') {
      return { login: answer.viewer.login, via: 'graphql' };
    }
  } catch {
    // Fall through: GraphQL may be unavailable (older GitHub Enterprise Server, proxies).
  }
  return { login: undefined, via: 'unknown' };
}

export interface CommentTarget {
  readonly repository: Repository;
  readonly pullRequest: number;
}

/** One of this action's comments on a pull request. */
export interface OwnComment {
  readonly id: number;
  readonly body: string;
  readonly url: string;
}

/**
 * This action's own comments on the pull request, a page (100) at a time, at most 50 pages (5000
 * comments: a bound so a pathological thread cannot stall the rollout). Stop early by breaking.
 */
export async function* ownComments(
  octokit: Octokit,
  policy: RetryPolicy,
  target: CommentTarget,
  identity: Identity,
): AsyncGenerator<OwnComment> {
  const perPage = 100;
  for (let page = 1; page <= 50; page++) {
    const comments = await withRetry(policy, async (signal) => {
      const response = await octokit.rest.issues.listComments({
        ...target.repository,
        issue_number: target.pullRequest,
        per_page: perPage,
        page,
        request: { signal },
      });
      return response.data;
    });
    for (const c of comments) {
      if (isOwnComment(identity, c.user)) yield { id: c.id, body: c.body ?? '', url: c.html_url };
    }
    if (comments.length < perPage) return;
  }
}

/**
 * Our plan comments of `context` on the pull request (every page), by their marker: those of
 * StatefulSets the manifests no longer hold are found too.
 */
export async function findPlanComments(
  octokit: Octokit,
  policy: RetryPolicy,
  target: CommentTarget,
  context: string,
  identity: Identity,
): Promise<Map<string, { readonly id: number; readonly body: string }>> {
  const found = new Map<string, { readonly id: number; readonly body: string }>();
  const own = encodeURIComponent(context);
  for await (const c of ownComments(octokit, policy, target, identity)) {
    const marker = /^<!-- statefulset-canary plan: ([^\s/]+)(?:\/[^\s]*)? -->(?=\n|$)/.exec(c.body);
    if (marker?.[1] === own && !found.has(marker[0])) found.set(marker[0], { id: c.id, body: c.body });
  }
  return found;
}

export interface FoundComment {
  readonly id: number;
  readonly url: string;
}

/** Our (first) comment with each of `markers` on the pull request, in one reading of its pages. */
export async function findComments(
  octokit: Octokit,
  policy: RetryPolicy,
  target: CommentTarget,
  markers: readonly string[],
  identity: Identity,
): Promise<Map<string, FoundComment>> {
  const found = new Map<string, FoundComment>();
  for await (const c of ownComments(octokit, policy, target, identity)) {
    for (const marker of markers) {
      // The marker is the comment's first line: one quoted further down (a plan diff) is text.
      if (c.body.startsWith(`${marker}\n`) && !found.has(marker)) found.set(marker, { id: c.id, url: c.url });
    }
    if (found.size === markers.length) break;
  }
  return found;
}

const cutNote = "\n\n…(cut to fit GitHub's comment size limit)\n";

/**
 * `body` cut below GitHub's limit (`max` characters, the note included) at a line end, never
 * inside a surrogate pair, and with a code fence left open by the cut closed again, so the rest
 * of the page is not swallowed into a code block and no character is broken.
 */
export function clampBody(body: string, max = maxBody): string {
  if (body.length <= max) return body;
  let fence: string | undefined;
  // Room for the note and for a closing fence as long as the longest line could open.
  const room = max - cutNote.length;
  let cut = 0;
  for (let at = 0; at < body.length; ) {
    const end = body.indexOf('\n', at);
    const next = end < 0 ? body.length : end + 1;
    const line = body.slice(at, end < 0 ? body.length : end);
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    const open = fence === undefined ? marker : fence;
    const closing = open === undefined ? 0 : open.length + 1;
    if (next + closing > room) break;
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
    }
    cut = next;
    at = next;
  }
  const kept = body.slice(0, cut || Math.min(room, body.length));
  // A cut inside one huge line (no line end in reach) must not split a surrogate pair.
  const whole = /[\ud800-\udbff]$/.test(kept) ? kept.slice(0, -1) : kept;
  const close = fence === undefined ? '' : `${whole.endsWith('\n') ? '' : '\n'}${fence}`;
  return `${whole}${close}${cutNote}`;
}

export async function createComment(
  octokit: Octokit,
  policy: RetryPolicy,
  target: CommentTarget,
  body: string,
): Promise<{ readonly id: number; readonly author: CommentAuthor | undefined }> {
  const response = await withRetry(policy, (signal) =>
    octokit.rest.issues.createComment({
      ...target.repository,
      issue_number: target.pullRequest,
      body: clampBody(body),
      request: { signal },
    }),
  );
  const { id, user } = response.data;
  return { id, author: user === null ? undefined : { login: user.login, type: user.type } };
}

export async function updateComment(
  octokit: Octokit,
  policy: RetryPolicy,
  repository: Repository,
  commentId: number,
  body: string,
): Promise<void> {
  await withRetry(policy, (signal) =>
    octokit.rest.issues.updateComment({
      ...repository,
      comment_id: commentId,
      body: clampBody(body),
      request: { signal },
    }),
  );
}

/**
 * The hidden marker of a run's one fleet comment (more than one StatefulSet or context): the
 * contexts, and a digest of every member, so a rerun of the same fleet finds its comment and
 * another fleet (another job's, another cluster's) has its own. Unlike the StatefulSet's, it says
 * `fleet:`, so neither marker can be mistaken for the other.
 */
export function fleetMarker(fleet: Fleet): string {
  const members = fleet.waves.flatMap((w) => w.members.map(memberKey));
  const contexts = [...new Set(fleet.waves.flatMap((w) => w.members.map((m) => m.context)))];
  const digest = createHash('sha256')
    .update([...members].sort().join('\n'))
    .digest('hex')
    .slice(0, 12);
  return `<!-- statefulset-canary fleet: ${contexts.map(encodeURIComponent).join(',')} ${digest} -->`;
}
