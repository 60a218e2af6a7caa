// A command in a pull request comment: `/canary promote`, `/canary abort`, `/canary rollback
// [REVISION]`, `/canary status`. The body is hostile input: only its first line of prose (not
// code, not an HTML comment, not a quote) that starts with `/canary` is read, only these words are accepted, and an argument is a revision number, never
// text handed on to anything else.

export type CommentCommand =
  | { readonly kind: 'promote' }
  | { readonly kind: 'abort' }
  | { readonly kind: 'status' }
  | { readonly kind: 'rollback'; readonly toRevision: number | undefined };

export type ParsedComment =
  /** Not addressed to this action: no line starts with `/canary`. */
  | { readonly kind: 'none' }
  | { readonly kind: 'command'; readonly command: CommentCommand }
  /** Addressed to it, but not a command it knows: answer with the valid ones. */
  | { readonly kind: 'invalid'; readonly problem: string };

export const COMMENT_USAGE =
  'Commands: `/canary promote` (go on with a paused rollout), `/canary abort` (roll a paused or halted ' +
  'rollout back), `/canary rollback` or `/canary rollback REVISION` (roll back to the previous revision or to ' +
  'ControllerRevision number REVISION), `/canary status`.';

/** How much of an unknown word the answer quotes (escaped by the renderer). */
const QUOTE_LIMIT = 40;

const quoted = (word: string) =>
  JSON.stringify(word.length > QUOTE_LIMIT ? `${word.slice(0, QUOTE_LIMIT)}…` : word);

/**
 * The lines of `raw` (the first 100 lines of a body) a reader sees as text, not code or a comment:
 * lines inside a fenced code block (``` or ~~~), indented code (4 spaces or a tab), and HTML
 * comments are dropped. A quote (`> /canary ...`) does not start with /canary, so never matches.
 */
function proseLines(raw: readonly string[]): string[] {
  const prose: string[] = [];
  let fence: string | undefined;
  let inComment = false;
  for (const line of raw) {
    const opened = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (opened !== undefined && opened[0] === fence[0] && opened.length >= fence.length) fence = undefined;
      continue;
    }
    if (!inComment && opened !== undefined) {
      fence = opened;
      continue;
    }
    let text = line;
    if (inComment) {
      const end = text.indexOf('-->');
      if (end < 0) continue;
      text = text.slice(end + 3);
      inComment = false;
    }
    text = text.replace(/<!--[\s\S]*?-->/g, '');
    const start = text.indexOf('<!--');
    if (start >= 0) {
      text = text.slice(0, start);
      inComment = true;
    }
    if (/^( {4}|\t)/.test(line) && !inComment) continue;
    prose.push(text);
  }
  return prose;
}

export function parseComment(body: string): ParsedComment {
  // At most the first 100 lines, each cut at 200 characters: a huge body costs nothing.
  const lines = proseLines(body.split(/\r?\n/, 100)).map((l) => l.slice(0, 200).trim());
  const line = lines.find((l) => /^\/canary(\s|$)/.test(l));
  if (line === undefined) return { kind: 'none' };
  const [, word = '', ...rest] = line.split(/\s+/);
  switch (word) {
    case 'promote':
    case 'abort':
    case 'status':
      if (rest.length > 0) return { kind: 'invalid', problem: `/canary ${word} takes no argument` };
      return { kind: 'command', command: { kind: word } };
    case 'rollback': {
      if (rest.length === 0) return { kind: 'command', command: { kind: 'rollback', toRevision: undefined } };
      const [revision = '', ...more] = rest;
      if (more.length > 0 || !/^[1-9]\d{0,8}$/.test(revision)) {
        return {
          kind: 'invalid',
          problem: `/canary rollback takes one revision number (from /canary status), not ${quoted(rest.join(' '))}`,
        };
      }
      return { kind: 'command', command: { kind: 'rollback', toRevision: Number(revision) } };
    }
    case '':
      return { kind: 'invalid', problem: '/canary needs a command' };
    default:
      return { kind: 'invalid', problem: `${quoted(word)} is not a command` };
  }
}
