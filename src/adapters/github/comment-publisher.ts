// The sticky pull request comment, one per StatefulSet on each pull request the run reports on:
// found by its marker among our own comments (every page), then edited in place; written anew if
// someone deleted it. An unchanged body is not sent again. The same reading of the pages finds the
// StatefulSet's plan comment (plan-comment.ts): the report links to it, so the merged change shows its plan.
import type { RolloutReport } from '../../engine/report.ts';
import { GitHubError } from './api.ts';
import {
  type CommentTarget,
  createComment,
  findComments,
  type Identity,
  planMarker,
  resolveIdentity,
  updateComment,
} from './comment.ts';
import type { Repository } from './context.ts';
import { renderReport } from './markdown/report.ts';
import { type GitHubSession, type Publisher, reportKey, subjectOf } from './session.ts';

/** What has been written for one StatefulSet on one pull request. */
interface Written {
  /** Our comments were looked for (once per pull request). */
  looked: boolean;
  commentId: number | undefined;
  /** The StatefulSet's plan comment on the pull request (`command: plan`), linked from the report. */
  planUrl: string | undefined;
  lastBody: string | undefined;
}

export function createCommentPublisher(
  session: GitHubSession,
  pullRequests: () => Promise<readonly number[]>,
): Publisher {
  const comments = new StickyComments(session);
  return async (report, repository) => {
    const prs = session.isOff('comment') ? [] : await pullRequests();
    if (prs.length === 0 || session.isOff('comment')) return;
    // One pull request after the other: a permission problem on the first switches the rest off.
    for (const pr of prs) await comments.publishOn(pr, repository, report);
  };
}

/** The sticky comments of one run: what was written where, and who writes them. */
class StickyComments {
  private readonly written = new Map<string, Written>();
  private identity: Promise<Identity> | undefined;
  private readonly session: GitHubSession;

  constructor(session: GitHubSession) {
    this.session = session;
  }

  async publishOn(pr: number, repository: Repository, report: RolloutReport): Promise<void> {
    const { session } = this;
    const marker = reportKey(report);
    const key = `${marker}#${pr}`;
    const state = this.written.get(key) ?? {
      looked: false,
      commentId: undefined,
      planUrl: undefined,
      lastBody: undefined,
    };
    this.written.set(key, state);
    if (session.isOff('comment')) return;
    const subject = subjectOf(report);
    const target = { repository, pullRequest: pr };
    try {
      if (!state.looked) {
        const plan = planMarker(report.context, { namespace: report.namespace, name: report.name });
        await this.look(state, target, marker, plan);
      }
      const body = renderReport(report, {
        marker,
        ...(state.planUrl === undefined ? {} : { planUrl: state.planUrl }),
      });
      if (body === state.lastBody) return;
      const done = await this.write(state, target, body);
      if (done === 'created') session.log.info(`Commented on pull request #${pr} for ${subject}.`);
      state.lastBody = body;
    } catch (error) {
      this.identity = undefined;
      state.looked = state.commentId !== undefined;
      session.fail('comment', error, subject, pr);
    }
  }

  /** Finds our comment and the plan comment, marked `marker` and `plan`, in one reading of the pages. */
  private async look(state: Written, target: CommentTarget, marker: string, plan: string): Promise<void> {
    const { session } = this;
    this.identity ??= resolveIdentity(session.client(), session.policy);
    const found = await findComments(
      session.client(),
      session.policy,
      target,
      [marker, plan],
      await this.identity,
    );
    state.commentId = found.get(marker)?.id;
    state.planUrl = found.get(plan)?.url;
    state.looked = true;
  }

  /** Edits our comment, or writes a new one; says which. */
  private async write(state: Written, target: CommentTarget, body: string): Promise<'edited' | 'created'> {
    const { session } = this;
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
    if ((await this.identity)?.via === 'unknown' && created.author !== undefined)
      this.identity = Promise.resolve({ login: created.author.login, via: 'comment' });
    return 'created';
  }
}
