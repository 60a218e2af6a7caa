// The inline pieces of this action's Markdown: escaping untrusted text, code spans, fences,
// links, and the few formats (durations, ordinals) that every rendered page shares. Everything
// that comes from the cluster or the manifests goes through one of these, never in raw.

/** How much of a container's last termination message the report shows. */
export const terminationMessageLimit = 1000;
/** How much of any other single untrusted value the report shows. */
const inlineLimit = 300;

// C0/C1 controls (tab and newline are handled separately) and bidi overrides that can
// make text read differently from what it is ("trojan source").
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const invisible = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Shortens text to at most `max` characters, marking the cut. */
function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Escapes untrusted text for inline use anywhere in the report, including table cells: no HTML
 * (tags, comments, entities), no Markdown syntax (links, images, emphasis, code spans, headings),
 * no table breakage (pipes, newlines), no @mentions or #references that notify or link, no
 * bare URLs that GFM would turn into links.
 */
export function escapeMarkdown(text: string, max = inlineLimit): string {
  return (
    truncate(text.replace(invisible, ''), max)
      .replace(/\s*(?:\r\n|\r|\n)\s*/g, ' ')
      .replace(/\t/g, ' ')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/[\\`*_{}[\]()#+\-.!|~$]/g, '\\$&')
      .replace(/@/g, '@\u200b')
      // GFM turns bare URLs into links; a zero-width space keeps them plain text.
      .replace(/(https?|ftp):\/\//gi, '$1:\u200b//')
      .replace(/\bwww\\\./gi, 'www\u200b\\.')
      .replace(/\\#(?=\d)/g, '\\#\u200b')
  );
}

/**
 * Untrusted text inside an HTML element (a `<summary>`), where Markdown is not read: no tags,
 * entities or controls, and no @mentions that notify.
 */
export function htmlText(text: string, max = inlineLimit): string {
  return truncate(text.replace(invisible, '').replace(/\s+/g, ' '), max)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/@/g, '@\u200b')
    .replace(/#(?=\d)/g, '#\u200b')
    .replace(/(https?|ftp):\/\//gi, '$1:\u200b//');
}

/**
 * A fenced code block holding untrusted multi-line text. The fence is longer than any run of
 * backticks in the text, so the text cannot close it; inside it nothing is Markdown or HTML.
 */
export function fenced(text: string, max = terminationMessageLimit, info: 'text' | 'diff' = 'text'): string {
  const body = truncate(text.replace(invisible, '').replace(/\r\n?/g, '\n'), max);
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}

/**
 * An identifier (namespace, pod, revision, image, reason) as a code span: shown as written, with
 * no backslash escapes, and inert (no Markdown, HTML, mentions or links inside a code span). The
 * fence is longer than any run of backticks in the text; in a table cell a pipe is escaped, which
 * GFM undoes before it reads the span.
 */
export function code(text: string, options: { readonly cell?: boolean; readonly max?: number } = {}): string {
  let body = truncate(text.replace(invisible, '').replace(/\s+/g, ' '), options.max ?? inlineLimit);
  if (options.cell) body = body.replace(/\|/g, '\\|');
  if (body.trim() === '') return '—';
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

/** A link to an http(s) URL, or escaped text when the URL is anything else. */
export function link(label: string, url: string): string {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) return escapeMarkdown(url);
  const safe = url.replace(/[()<>"'`\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `[${escapeMarkdown(label)}](${safe})`;
}

/** "42s", "3m 05s", "1h 02m". */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** "4", "2–3", "0–1, 3": ordinals as ranges. */
export function formatOrdinals(ordinals: readonly number[]): string {
  const sorted = [...ordinals].sort((a, b) => a - b);
  const ranges: string[] = [];
  let start = sorted[0];
  for (let i = 0; i < sorted.length; i++) {
    const current = sorted[i];
    const next = sorted[i + 1];
    if (start === undefined || current === undefined) break;
    if (next !== current + 1) {
      ranges.push(start === current ? `${start}` : `${start}–${current}`);
      start = next;
    }
  }
  return ranges.join(', ');
}
