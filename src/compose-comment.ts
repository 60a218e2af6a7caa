// `command: comment`: a workflow on issue_comment runs the command a pull request comment asks
// for (/canary promote | abort | rollback [REVISION] | status) on the StatefulSets that pull
// request rolled out (as the state recorded on each StatefulSet says: src/engine/command-owner.ts),
// for a commenter with write, maintain or admin permission (nothing is written for anyone else).
// The answer goes into this action's sticky comments (reactions on the comment say started, done,
// refused).
import { createOctokit, defaultRetryPolicy, type Octokit } from './adapters/github/api.ts';
import {
  answer,
  type CommentEvent,
  mayCommand,
  react,
  readCommentEvent,
  type StickyComment,
  stickyComments,
} from './adapters/github/comment-commands.ts';
import { code, escapeMarkdown, fenced } from './adapters/github/markdown/inline.ts';
import type { Outcome } from './app.ts';
import { type ComposedApp, type CompositionOptions, composeApp } from './compose.ts';
import { COMMENT_USAGE, type CommentCommand, parseComment } from './config/comment-command.ts';
import type { Settings } from './config/settings.ts';

const NOTHING: Outcome = {
  result: 'no-change',
  revision: undefined,
  previousRevision: undefined,
  statefulSets: [],
  stages: [],
  durationSeconds: 0,
  failure: undefined,
  text: undefined,
};

export async function composeCommentApp(options: CompositionOptions): Promise<Pick<ComposedApp, 'run'>> {
  const { origin, log, settings } = options;
  if (origin.kind !== 'github') throw new Error('command comment runs only in a GitHub Actions job');
  return {
    async run(signal) {
      const event = readCommentEvent(origin.run);
      if ('ignore' in event) {
        log.notice(`Nothing to do: ${event.ignore}`);
        return { ...NOTHING, text: `ignored: ${event.ignore}` };
      }
      const parsed = parseComment(event.body);
      if (parsed.kind === 'none') return { ...NOTHING, text: 'ignored: the comment has no /canary command' };
      if (!settings.github.token) throw new Error('command comment needs the github-token input');
      const octokit = createOctokit(settings.github.token, origin.run.apiUrl);
      const policy = { ...defaultRetryPolicy, ...origin.retry };
      // The permission first: for someone who may not command, nothing is written (no reaction,
      // no answer), so a reader cannot make the action edit comments or spend its rate limit.
      const role = await mayCommand(octokit, policy, event);
      if (role !== undefined) {
        const why = `@${event.author} has ${role} permission on the repository; commands need write, maintain or admin.`;
        log.warning(`${why} Nothing was written.`);
        return { ...NOTHING, text: why };
      }
      await react(octokit, policy, event, 'eyes');
      const stickies = await stickyComments(octokit, policy, event, options.kube.contextName);
      // `markdown`: the answer as rendered, with anything from the comment escaped. One answer at
      // most, in the first rollout comment.
      const refuse = async (why: string, markdown = why): Promise<Outcome> => {
        log.warning(why);
        const [first] = stickies;
        if (first !== undefined) await answer(octokit, policy, event, first, answerLine(event, markdown));
        await react(octokit, policy, event, '-1');
        return { ...NOTHING, text: why };
      };
      if (parsed.kind === 'invalid') {
        return refuse(
          `${parsed.problem}. ${COMMENT_USAGE}`,
          `${escapeMarkdown(parsed.problem)}. ${COMMENT_USAGE}`,
        );
      }
      if (stickies.length === 0) {
        return refuse(
          `pull request #${event.pullRequest} has no rollout comment of this action for context ` +
            `${options.kube.contextName}: there is no StatefulSet to act on.`,
        );
      }
      const outcomes: Outcome[] = [];
      for (const sticky of stickies) {
        outcomes.push(
          await runOn(options, { octokit, policy, event, sticky, command: parsed.command, signal }),
        );
      }
      const ok = outcomes.every((o) => o.failure === undefined);
      await react(octokit, policy, event, ok ? '+1' : '-1');
      return mergedOutcome(outcomes);
    },
  };
}

interface Target {
  readonly octokit: Octokit;
  readonly policy: typeof defaultRetryPolicy;
  readonly event: CommentEvent;
  readonly sticky: StickyComment;
  readonly command: CommentCommand;
  readonly signal: AbortSignal;
}

/** Runs the command on one StatefulSet, as its own command, reporting on the same comment. */
async function runOn(options: CompositionOptions, target: Target): Promise<Outcome> {
  const { event, sticky, command } = target;
  const settings: Settings = Object.freeze({
    ...options.settings,
    command: command.kind,
    statefulset: sticky.name,
    namespace: sticky.namespace,
    toRevision: command.kind === 'rollback' ? command.toRevision : undefined,
    reason: `/canary ${command.kind} by @${event.author}`,
    // The recorded state decides: only what this pull request rolled out, in this context.
    boundTo: { pullRequest: event.pullRequest, context: options.kube.contextName },
    github: Object.freeze({ ...options.settings.github, pullRequest: event.pullRequest }),
  });
  let outcome: Outcome;
  try {
    const app = await composeApp({ ...options, settings });
    outcome = await app.run(target.signal);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    outcome = { ...NOTHING, result: 'failed', failure: why };
  }
  // The run's report rewrote the comment: answer on what it wrote.
  const fresh = (await stickyComments(target.octokit, target.policy, event, options.kube.contextName)).find(
    (s) => s.id === sticky.id,
  );
  const said =
    command.kind === 'status'
      ? `${answerLine(event, `\`/canary status\` of ${code(`${sticky.namespace}/${sticky.name}`)}:`)}\n\n${fenced(outcome.text ?? '')}`
      : answerLine(
          event,
          `\`/canary ${command.kind}\` on ${code(`${sticky.namespace}/${sticky.name}`)}: ` +
            (outcome.failure
              ? `refused or failed: ${fenced(outcome.failure)}`
              : `result \`${outcome.result}\`.`),
        );
  await answer(target.octokit, target.policy, event, fresh ?? sticky, said);
  return outcome;
}

function answerLine(event: CommentEvent, text: string): string {
  return `> **@${event.author.replace(/[^A-Za-z0-9-]/g, '')}**, comment ${event.commentId}: ${text}`;
}

function mergedOutcome(outcomes: readonly Outcome[]): Outcome {
  const failed = outcomes.find((o) => o.failure !== undefined);
  const first = failed ?? outcomes[0] ?? NOTHING;
  return {
    ...first,
    statefulSets: outcomes.flatMap((o) => o.statefulSets),
    stages: outcomes.flatMap((o) => o.stages),
    durationSeconds: outcomes.reduce((sum, o) => sum + o.durationSeconds, 0),
    text:
      outcomes
        .map((o) => o.text)
        .filter(Boolean)
        .join('\n') || undefined,
  };
}
