// The sticky pull request comment, one per StatefulSet on each pull request the run reports on:
// found by its marker among our own comments (every page), then edited in place; written anew if
// someone deleted it. An unchanged body is not sent again. The same reading of the pages finds the
// StatefulSet's plan comment (plan-comment.ts): the report links to it, so the merged change shows its plan.
// Writes wait their turn under the run's pacing (edit-pacer.ts) and then send the newest report; a
// body that differs only by its "Last updated" time is not sent. The final report is never lost
// to a rate limit: a `retry-after` longer than the retry policy waits is waited out (up to
// finalWaitCapMs), said in the log, and the final report is then written.
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

/** The longest `retry-after` waited out for a final report (the step waits for it). */
const finalWaitCapMs = 15 * 60_000;

/** The body without its "Last updated" time: what a change must differ in to be sent. */
const withoutTime = (body: string): string => body.replace(/Last updated [^\s<]+/g, 'Last updated');

/**
 * One sticky comment: its marker (the first line), the plan comment it links to (if any), what
 * warnings call it, and its newest body, rendered when a write's turn comes.
 */
export interface Sticky {
  readonly marker: string;
  readonly planMarker: string | undefined;
  readonly subject: string;
  body(planUrl: string | undefined): { readonly body: string; readonly final: boolean };
}

export function createCommentPublisher(
  session: GitHubSession,
  pullRequests: () => Promise<readonly number[]>,
  newest: (key: string) => RolloutReport | undefined,
): Publisher {
  const comments = new StickyComments(session);
  return async (report, repository) => {
    const marker = reportKey(report);
    const sticky: Sticky = {
      marker,
      planMarker: planMarker(report.context, { namespace: report.namespace, name: report.name }),
      subject: subjectOf(report),
      body: (planUrl) => {
        const latest = newest(marker) ?? report;
        const body = renderReport(latest, { marker, ...(planUrl === undefined ? {} : { planUrl }) });
        return { body, final: latest.verdict !== 'in-progress' };
      },
    };
    await publishSticky(session, comments, pullRequests, sticky, repository);
  };
}

/** Writes `sticky` on every pull request of the run, one after the other. Never throws. */
export async function publishSticky(
  session: GitHubSession,
  comments: StickyComments,
  pullRequests: () => Promise<readonly number[]>,
  sticky: Sticky,
  repository: Repository,
): Promise<void> {
  const prs = session.isOff('comment') ? [] : await pullRequests();
  if (prs.length === 0 || session.isOff('comment')) return;
  // One pull request after the other: a permission problem on the first switches the rest off.
  for (const pr of prs) await comments.publishOn(pr, repository, sticky);
}

/** The sticky comments of one run: what was written where, and who writes them. */
export class StickyComments {
  private readonly written = new Map<string, Written>();
  private identity: Promise<Identity> | undefined;
  private readonly session: GitHubSession;

  constructor(session: GitHubSession) {
    this.session = session;
  }

  async publishOn(pr: number, repository: Repository, sticky: Sticky): Promise<void> {
    const { session } = this;
    const { marker, subject } = sticky;
    const key = `${marker}#${pr}`;
    const state = this.written.get(key) ?? {
      looked: false,
      commentId: undefined,
      planUrl: undefined,
      lastBody: undefined,
    };
    this.written.set(key, state);
    if (session.isOff('comment')) return;
    const target = { repository, pullRequest: pr };
    try {
      if (!state.looked) await this.look(state, target, marker, sticky.planMarker);
      const unchanged = (body: string) =>
        state.lastBody !== undefined && withoutTime(body) === withoutTime(state.lastBody);
      if (unchanged(sticky.body(state.planUrl).body)) return;
      for (let attempt = 1; ; attempt++) {
        const ended = await session.pacer.turn();
        try {
          const { body, final } = sticky.body(state.planUrl);
          if (unchanged(body)) return;
          try {
            const done = await this.write(state, target, body);
            if (done === 'created') session.log.info(`Commented on pull request #${pr} for ${subject}.`);
            state.lastBody = body;
            return;
          } catch (error) {
            const wait =
              error instanceof GitHubError && error.kind === 'rate-limited' ? error.retryAfterMs : undefined;
            if (wait === undefined) throw error;
            // Before the turn ends, so the next write of the run waits too.
            session.pacer.holdOff(wait);
            if (!final || session.hurried || wait > finalWaitCapMs || attempt >= 3) throw error;
            session.log.warning(
              `GitHub's rate limit asks to wait ${Math.ceil(wait / 1000)} s before the next comment write: the final result of ${subject} goes on pull request #${pr} after that wait.`,
            );
          }
        } finally {
          ended();
        }
      }
    } catch (error) {
      this.identity = undefined;
      state.looked = state.commentId !== undefined;
      session.fail('comment', error, subject, pr);
    }
  }

  /** Finds our comment and the plan comment, marked `marker` and `plan`, in one reading of the pages. */
  private async look(
    state: Written,
    target: CommentTarget,
    marker: string,
    plan: string | undefined,
  ): Promise<void> {
    const { session } = this;
    this.identity ??= resolveIdentity(session.client(), session.policy);
    const found = await findComments(
      session.client(),
      session.policy,
      target,
      plan === undefined ? [marker] : [marker, plan],
      await this.identity,
    );
    state.commentId = found.get(marker)?.id;
    state.planUrl = plan === undefined ? undefined : found.get(plan)?.url;
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
