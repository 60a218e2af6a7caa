// Why a container crashed, in its own words: the last lines of its log, for the failure report.
// Pure: which containers to read (bounded), and what of the text the adapter read to show. The
// text is the application's own output (untrusted, possibly holding anything the application
// printed): the adapter masks the run's secrets in it as it reads it; here it is stripped of
// terminal escapes and control characters, cut to a few short lines, and never interpreted.
import type { ContainerEvidence, PodEvidence } from './diagnosis.ts';

/**
 * The bounds, each a cap on cost or size:
 * - PODS: logs read per failed stage, one container a pod, the failing pod first: a stage of
 *   1,000 crashing pods costs 3 requests, not 1,000;
 * - TAIL_LINES, LIMIT_BYTES: what the API server is asked for (`tailLines`, `limitBytes` of
 *   `GET .../pods/{name}/log`); the byte limit cuts the end of the tail, so it leaves room for
 *   TAIL_LINES lines of LINE_CHARS;
 * - LINE_CHARS: the longest line shown; longer ones end in `…`.
 * At most PODS × TAIL_LINES × LINE_CHARS = 14,400 characters of log reach a report.
 */
export const CRASH_LOG = { PODS: 3, TAIL_LINES: 20, LIMIT_BYTES: 8192, LINE_CHARS: 240 } as const;

/** A container whose log to read; `previous`: the instance before the running one (`?previous=true`). */
export interface CrashLogTarget {
  readonly pod: string;
  readonly container: string;
  readonly previous: boolean;
}

/** What reading a log gave: its text (secrets masked), no log, a 403, or another error. */
export type CrashLogRead =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'error'; readonly reason: string };

/** What the report shows about one crashed container's log. */
export interface CrashLog {
  readonly pod: string;
  readonly container: string;
  readonly previous: boolean;
  /** The last lines, each at most LINE_CHARS; empty when there is none or it was not read. */
  readonly lines: readonly string[];
  /** The API server stopped at LIMIT_BYTES: the last line may be incomplete. */
  readonly cut: boolean;
  /** Why there are no lines: no log, not allowed (and the rule that allows it), or the error. */
  readonly note: string | undefined;
}

/**
 * Which log tells why a container crashed, or undefined when it did not crash: a container
 * terminated now is its own log; one waiting in CrashLoopBackOff, or restarted after a
 * termination, is the previous instance's.
 */
function crashTarget(pod: string, c: ContainerEvidence): CrashLogTarget | undefined {
  if (c.terminated && c.terminated.exitCode !== 0) return { pod, container: c.name, previous: false };
  const restarted = (c.restartCount ?? 0) > 0 && c.lastTermination !== undefined;
  if (c.waitingReason === 'CrashLoopBackOff' || restarted) return { pod, container: c.name, previous: true };
  return undefined;
}

/**
 * The logs to read for a failed stage: one crashed container a pod (the failure's container
 * first), the failing pod first, at most CRASH_LOG.PODS.
 */
export function crashLogTargets(
  evidence: readonly PodEvidence[],
  failed: { readonly pod: string; readonly container: string | undefined },
): CrashLogTarget[] {
  const order = [...evidence].sort((a, b) => Number(b.pod === failed.pod) - Number(a.pod === failed.pod));
  const targets: CrashLogTarget[] = [];
  for (const pod of order) {
    const containers = [...pod.containers].sort(
      (a, b) => Number(b.name === failed.container) - Number(a.name === failed.container),
    );
    const target = containers.map((c) => crashTarget(pod.pod, c)).find((t) => t !== undefined);
    if (target) targets.push(target);
    if (targets.length >= CRASH_LOG.PODS) break;
  }
  return targets;
}

// Terminal escapes (colours, cursor moves) that log libraries print, then the C0/C1 controls
// and bidi overrides left (tab kept as a space).
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function cleanLine(line: string): string {
  const plain = line.replace(ANSI, '').replace(/\t/g, ' ').replace(CONTROL, '').trimEnd();
  return plain.length <= CRASH_LOG.LINE_CHARS ? plain : `${plain.slice(0, CRASH_LOG.LINE_CHARS - 1)}…`;
}

/** The rule that lets a run read logs, for the line that says it could not. */
const POD_LOG_RULE = 'pods/log get';

/** What the report shows for one target, from what reading its log gave. */
export function crashLog(target: CrashLogTarget, read: CrashLogRead): CrashLog {
  const base = { ...target, lines: [], cut: false };
  switch (read.kind) {
    case 'none':
      return { ...base, note: target.previous ? 'no log of the previous instance' : 'no log' };
    case 'forbidden':
      return { ...base, note: `could not read its log (forbidden): the RBAC rule ${POD_LOG_RULE} adds it` };
    case 'error':
      return { ...base, note: `could not read its log (${cleanLine(read.reason).slice(0, 120)})` };
    case 'text': {
      const all = read.text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
      const lines = all.slice(-CRASH_LOG.TAIL_LINES).map(cleanLine);
      const cut = new TextEncoder().encode(read.text).length >= CRASH_LOG.LIMIT_BYTES;
      if (lines.every((l) => l.trim() === '')) return { ...base, note: 'its log is empty' };
      return { ...base, lines, cut, note: undefined };
    }
    default: {
      const never: never = read;
      return never;
    }
  }
}

/** `db-2`, container `app` (its previous instance): how the log and the report name a log. */
function crashLogTitle(log: CrashLog): string {
  return `${log.pod}, container ${log.container}${log.previous ? ' (previous instance)' : ''}`;
}

/**
 * The log's lines for the run's log: a heading, then each line after `| `, so no line of the
 * application's output can start a workflow command (`::…`) or pass for the action's own line.
 */
export function crashLogLines(log: CrashLog): string[] {
  if (log.note !== undefined) return [`Crash log of ${crashLogTitle(log)}: ${log.note}`];
  const cut = log.cut ? `, cut at ${CRASH_LOG.LIMIT_BYTES} bytes` : '';
  return [
    `Crash log of ${crashLogTitle(log)}, last ${log.lines.length} lines${cut}:`,
    ...log.lines.map((l) => `  | ${l}`),
  ];
}

/**
 * Replaces each secret in `text` with `***`, as the Actions runner masks its log: each value as
 * registered (the kubeconfig's PEM data comes as its lines too, see kubeconfig.ts), longest
 * first. Values shorter than 4 characters are not masked (they would mask common text).
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const values = [...new Set(secrets)]
    .filter((s) => s.trim().length >= 4)
    .sort((a, b) => b.length - a.length);
  let masked = text;
  for (const value of values) masked = masked.split(value).join('***');
  return masked;
}
