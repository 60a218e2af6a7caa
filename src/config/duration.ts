// Durations as users write them in inputs (Go style, like kubectl's --timeout): 500ms,
// 30s, 10m, 1h30m, 0. Parsed to whole milliseconds.

/** Thrown by parseDuration; the caller adds which input or flag the text came from. */
export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/**
 * The longest duration accepted, in ms: Node's timers overflow a signed 32-bit
 * millisecond count (about 24.8 days) and would then fire at once instead of late.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

export const DURATION_FORM = 'a number with a unit, e.g. 500ms, 30s, 10m or 1h30m (units ms, s, m, h)';

/** Parses `text` into milliseconds (rounded to the nearest ms); throws DurationError. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (trimmed.startsWith('-')) {
    throw new DurationError(`"${text}" is negative; a duration is 0 or more: ${DURATION_FORM}`);
  }
  if (!WHOLE.test(trimmed)) {
    throw new DurationError(`"${text}" is not a duration; write ${DURATION_FORM}`);
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  const ms = Math.round(total);
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) {
    throw new DurationError(`"${text}" is too long; the longest duration accepted is 596h (about 24 days)`);
  }
  return ms;
}

/** A short human form of `ms` for reports, e.g. 500ms, 1.5s, 2m30s, 1h0m5s; parseDuration reads it back. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trimDecimal(ms / 1000)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
}

function trimDecimal(value: number): string {
  return String(Math.round(value * 10) / 10);
}
