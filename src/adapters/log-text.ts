// Text for a GitHub Actions log, where the runner reads every line of stdout and stderr as a
// possible workflow command: `::name::` at a line's start (after leading white space) and the
// legacy `##[name]` anywhere in it. Lines split at \n, \r\n and a lone \r alike. Cluster text,
// app answers, exec output and Prometheus values reach the log, so none of them may start one.

/** A zero-width space: breaks `::` and `##[` without changing what a person reads. */
const BREAK = '\u200b';

/**
 * `text` with no workflow command in it: every `::` and `##[` broken by a zero-width space, and a
 * lone \r (which the runner takes for a line break) shown as `\r`. Line breaks (\n) stay, so a
 * multi-line text reads as it did; none of its lines can start a command any more.
 */
export function neutraliseWorkflowCommands(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .replace(/\r/g, '\\r')
    .replace(/::/g, `:${BREAK}:`)
    .replace(/##\[/g, `#${BREAK}#[`);
}
