// The sticky plan comment (issue 16): `command: plan` on a pull request keeps one comment per
// StatefulSet, marked `<!-- statefulset-canary plan: CONTEXT/NS/NAME -->` beside its rollout
// comment, and edits it on every push to the pull request. A refused change shows the refusal
// in the comment of each StatefulSet of the manifests. Publishing never fails the step: a
// failure warns with the fix, as the rollout comment does (session.ts).
import type { PlanReport } from '../../engine/plan-report.ts';
import {
  createComment,
  findPlanComments,
  type Identity,
  planMarker,
  resolveIdentity,
  updateComment,
} from './comment.ts';
import type { GitHubRunContext } from './context.ts';
import { type PlanRenderOptions, renderPlanGone, renderStatefulSetPlan } from './markdown/plan.ts';
import { pullRequestEvents } from './pull-request.ts';
import type { GitHubSession } from './session.ts';

/** The commit a pull_request run plans: the pull request's head (GITHUB_SHA is the test merge). */
export function plannedCommit(run: GitHubRunContext): string | undefined {
  const pr = run.payload.pull_request;
  const head = typeof pr === 'object' && pr !== null ? (pr as { head?: { sha?: unknown } }).head : undefined;
  return typeof head?.sha === 'string' && /^[0-9a-f]{7,64}$/i.test(head.sha) ? head.sha : run.sha;
}

/** One comment per StatefulSet of the plan (one for the whole plan when it names none). */
function comments(plan: PlanReport): { marker: string; target: string | undefined }[] {
  if (plan.targets.length === 0) return [{ marker: planMarker(plan.context), target: undefined }];
  return [...new Set(plan.targets)].map((target) => {
    const [namespace = '', name = ''] = target.split('/');
    return { marker: planMarker(plan.context, { namespace, name }), target };
  });
}

/** What an old plan comment says once its StatefulSet left the manifests (and how it is recognised). */
const goneNote = 'is no longer in the manifests of this pull request';

function renderGone(marker: string, options: PlanRenderOptions): string {
  const parts = /plan: (\S+) -->/.exec(marker)?.[1]?.split('/').map(decodeURIComponent) ?? [];
  const target = parts.length === 3 ? `${parts[1]}/${parts[2]}` : undefined;
  return renderPlanGone(target, goneNote, { ...options, marker });
}

export type PlanPublisher = (plan: PlanReport, plannedAt: number) => Promise<void>;

/**
 * A plan is commented on the pull request it is for: that of a pull request's event (or a
 * comment on it), or the `pull-request` input. A plan on push or on a schedule (a drift check)
 * would otherwise land on the pull requests the push merged, which are done.
 */
export function plansOnPullRequest(run: GitHubRunContext, pullRequestInput: number | undefined): boolean {
  const event = run.eventName ?? '';
  return pullRequestInput !== undefined || pullRequestEvents.has(event) || event === 'issue_comment';
}

export function createPlanPublisher(
  session: GitHubSession,
  pullRequests: () => Promise<readonly number[]>,
  hasToken: boolean,
  pullRequestInput: number | undefined,
): PlanPublisher {
  let identity: Promise<Identity> | undefined;
  return async (plan, plannedAt) => {
    const { run } = session;
    const repository = run.repository;
    if (!hasToken || repository === undefined || session.isOff('comment')) return;
    if (!plansOnPullRequest(run, pullRequestInput)) {
      session.log.info(
        'The plan is in the log and the job summary: it is commented only on a pull request run (or with the `pull-request` input).',
      );
      return;
    }
    const prs = await pullRequests();
    const commit = plannedCommit(run);
    const options = {
      plannedAt,
      ...(commit === undefined ? {} : { commit }),
      ...(run.runUrl === undefined ? {} : { runUrl: run.runUrl }),
    };
    for (const pr of prs) {
      if (session.isOff('comment')) return;
      const where = { repository, pullRequest: pr };
      let subject = `the plan on pull request #${pr}`;
      try {
        identity ??= resolveIdentity(session.client(), session.policy);
        const client = session.client();
        const existing = await findPlanComments(client, session.policy, where, plan.context, await identity);
        for (const { marker, target } of comments(plan)) {
          subject = `the plan of ${target ?? 'the manifests'}`;
          const body = renderStatefulSetPlan(plan, target, { ...options, marker });
          const found = existing.get(marker);
          existing.delete(marker);
          if (found === undefined) {
            await createComment(client, session.policy, where, body);
            session.log.info(`Commented on pull request #${pr} with ${subject}.`);
          } else {
            await updateComment(client, session.policy, repository, found.id, body);
            session.log.info(`Updated ${subject} on pull request #${pr}.`);
          }
        }
        // Plans of StatefulSets a later push took out of the manifests: say so, once.
        for (const [marker, found] of existing) {
          if (found.body.includes(goneNote)) continue;
          subject = `the old plan ${marker}`;
          await updateComment(client, session.policy, repository, found.id, renderGone(marker, options));
        }
      } catch (error) {
        identity = undefined;
        session.fail('comment', error, subject, pr);
      }
    }
  };
}
