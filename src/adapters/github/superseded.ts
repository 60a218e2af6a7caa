// A paused rollout that a newer merge started over: its pull request's comment says so (once),
// so nobody promotes or waits for a rollout that is gone. The note is a section at the end of
// that comment; the comment keeps its last report.
import type { RolloutReport } from '../../engine/report.ts';
import { commentMarker, type OwnComment, ownComments, resolveIdentity, updateComment } from './comment.ts';
import type { Repository } from './context.ts';
import { code } from './markdown/inline.ts';
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
      let found: OwnComment | undefined;
      for await (const c of ownComments(octokit, session.policy, target, identity)) {
        if (c.body.includes(marker)) {
          found = c;
          break;
        }
      }
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
