// The sticky pull request comment, one per StatefulSet on each pull request the run reports on:
// found by its marker among our own comments (every page), then edited in place; written anew if
// someone deleted it. An unchanged body is not sent again.
import { renderReport } from '../markdown.ts';
import { GitHubError } from './api.ts';
import {
  type CommentTarget,
  createComment,
  findComment,
  type Identity,
  resolveIdentity,
  updateComment,
} from './comment.ts';
import type { Repository } from './context.ts';
import { type GitHubSession, type Publisher, reportKey, subjectOf } from './session.ts';

/** What has been written for one StatefulSet on one pull request. */
interface Written {
  commentId: number | undefined;
  lastBody: string | undefined;
}

export function createCommentPublisher(
  session: GitHubSession,
  pullRequests: () => Promise<readonly number[]>,
): Publisher {
  const written = new Map<string, Written>();
  let identity: Promise<Identity> | undefined;

  /** Edits our comment marked `marker`, or writes a new one; says which. */
  async function write(
    state: Written,
    target: CommentTarget,
    marker: string,
    body: string,
  ): Promise<'edited' | 'created'> {
    if (state.commentId === undefined) {
      identity ??= resolveIdentity(session.client(), session.policy);
      state.commentId = await findComment(session.client(), session.policy, target, marker, await identity);
    }
    if (state.commentId !== undefined) {
      try {
        await updateComment(session.client(), session.policy, target.repository, state.commentId, body);
        return 'edited';
      } catch (error) {
        // Someone deleted the comment since: write a new one.
        if (!(error instanceof GitHubError) || error.kind !== 'not-found') throw error;
        state.commentId = undefined;
      }
    }
    const created = await createComment(session.client(), session.policy, target, body);
    state.commentId = created.id;
    // The comment's author is who the token writes as: learned for good when nothing else said.
    if ((await identity)?.via === 'unknown' && created.author !== undefined)
      identity = Promise.resolve({ login: created.author.login, via: 'comment' });
    return 'created';
  }

  async function publishOn(
    pr: number,
    repository: Repository,
    marker: string,
    body: string,
    subject: string,
  ) {
    const key = `${marker}#${pr}`;
    const state = written.get(key) ?? { commentId: undefined, lastBody: undefined };
    written.set(key, state);
    if (body === state.lastBody || session.isOff('comment')) return;
    try {
      const done = await write(state, { repository, pullRequest: pr }, marker, body);
      if (done === 'created') session.log.info(`Commented on pull request #${pr} for ${subject}.`);
      state.lastBody = body;
    } catch (error) {
      identity = undefined;
      session.fail('comment', error, subject, pr);
    }
  }

  return async (report, repository) => {
    const prs = session.isOff('comment') ? [] : await pullRequests();
    if (prs.length === 0 || session.isOff('comment')) return;
    const marker = reportKey(report);
    const body = renderReport(report, { marker });
    // One pull request after the other: a permission problem on the first switches the rest off.
    for (const pr of prs) await publishOn(pr, repository, marker, body, subjectOf(report));
  };
}
