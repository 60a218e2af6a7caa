// The sticky pull request comment, one per StatefulSet: found by its marker among our own
// comments (every page), then edited in place; written anew if someone deleted it. An
// unchanged body is not sent again.
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
import { type GitHubSession, type Publisher, reportKey, subjectOf } from './session.ts';

/** What has been written for one StatefulSet. */
interface Written {
  commentId: number | undefined;
  lastBody: string | undefined;
}

export function createCommentPublisher(
  session: GitHubSession,
  pullRequest: () => Promise<number | undefined>,
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
    const { policy } = session;
    if (state.commentId === undefined) {
      identity ??= resolveIdentity(session.client(), policy);
      state.commentId = await findComment(session.client(), policy, target, marker, await identity);
    }
    if (state.commentId !== undefined) {
      try {
        await updateComment(session.client(), policy, target.repository, state.commentId, body);
        return 'edited';
      } catch (error) {
        // Someone deleted the comment since: write a new one.
        if (!(error instanceof GitHubError) || error.kind !== 'not-found') throw error;
        state.commentId = undefined;
      }
    }
    state.commentId = await createComment(session.client(), policy, target, body);
    return 'created';
  }

  return async (report, repository) => {
    const pr = session.isOff('comment') ? undefined : await pullRequest();
    if (pr === undefined || session.isOff('comment')) return;
    const marker = reportKey(report);
    const body = renderReport(report, { marker });
    const state = written.get(marker) ?? { commentId: undefined, lastBody: undefined };
    written.set(marker, state);
    if (body === state.lastBody) return;
    try {
      const done = await write(state, { repository, pullRequest: pr }, marker, body);
      if (done === 'created') session.log.info(`Commented on pull request #${pr} for ${subjectOf(report)}.`);
      state.lastBody = body;
    } catch (error) {
      identity = undefined;
      session.fail('comment', error, subjectOf(report), pr);
    }
  };
}
