// A paused rollout that a newer merge started over: its pull request's comment says so (once),
// so nobody promotes or waits for a rollout that is gone. The note is a section at the end of
// that comment; the comment keeps its last report.
import type { RolloutReport } from '../../engine/report.ts';
import { code } from '../markdown.ts';
import { type Octokit, type RetryPolicy, withRetry } from './api.ts';
import {
  type CommentTarget,
  commentMarker,
  type Identity,
  isOwnComment,
  resolveIdentity,
  updateComment,
} from './comment.ts';
import type { Repository } from './context.ts';
import type { GitHubSession, Publisher } from './session.ts';

const NOTE = '<!-- statefulset-canary superseded -->';

export function createSupersededPublisher(
  session: GitHubSession,
  pullRequests: () => Promise<readonly number[]>,
): Publisher {
  const told = new Set<string>();
  return async (report: RolloutReport, repository: Repository) => {
    const old = report.superseded;
    if (old === undefined || session.isOff('comment')) return;
    const marker = commentMarker(report.context, report.namespace, report.name);
    const key = `${marker}#${old.pullRequest}`;
    if (told.has(key) || (await pullRequests()).includes(old.pullRequest)) return;
    told.add(key);
    const subject = `${report.namespace}/${report.name}`;
    try {
      const octokit = session.client();
      const identity = await resolveIdentity(octokit, session.policy);
      const target = { repository, pullRequest: old.pullRequest };
      const found = await findCommentBody(octokit, session.policy, target, marker, identity);
      if (found === undefined) return;
      const kept = found.body.split(`\n${NOTE}\n`)[0]?.trimEnd() ?? '';
      const by = report.runUrl ? ` ([run](${report.runUrl.replace(/[()]/g, '')}))` : '';
      const note =
        `> ⏭️ **Superseded:** the rollout of ${code(old.revision)}, paused after stage ${old.stage}, was not ` +
        `promoted: a newer change of ${code(subject)} started over from a frozen partition${by}.`;
      await updateComment(octokit, session.policy, repository, found.id, `${kept}\n${NOTE}\n${note}\n`);
    } catch (error) {
      session.fail('comment', error, `the superseded note of ${subject}`, old.pullRequest);
    }
  };
}

/** Our comment with `marker` and its body (the list gives both: no extra request). */
async function findCommentBody(
  octokit: Octokit,
  policy: RetryPolicy,
  target: CommentTarget,
  marker: string,
  identity: Identity,
): Promise<{ id: number; body: string } | undefined> {
  for (let page = 1; page <= 50; page++) {
    const comments = await withRetry(policy, async (signal) => {
      const response = await octokit.rest.issues.listComments({
        ...target.repository,
        issue_number: target.pullRequest,
        per_page: 100,
        page,
        request: { signal },
      });
      return response.data;
    });
    const ours = comments.find((c) => c.body?.includes(marker) === true && isOwnComment(identity, c.user));
    if (ours !== undefined) return { id: ours.id, body: ours.body ?? '' };
    if (comments.length < 100) return undefined;
  }
  return undefined;
}
