// What a script that runs the command line reads: the exit codes and the --json object. Both
// are stable across releases; docs/cli.md lists them and a unit test keeps the page equal to these.
/** The exit codes, stable across releases (docs/cli.md lists them; a test keeps it equal). */
export const EXIT_CODES = {
  /** The command did what it was asked: succeeded, created, unchanged, paused, rolled back by request. */
  ok: 0,
  /** The run failed: a stage failed (rolled back or halted), the cluster refused, a lock was held. */
  failed: 1,
  /** Nothing was done: bad flags, inputs or manifests (found before any change), or a Node older than 24. */
  usage: 2,
} as const;

/** The keys of the --json object, in order: the run's Outcome (src/app.ts), `text` included. */
export const JSON_KEYS = [
  'result',
  'revision',
  'previousRevision',
  'statefulSets',
  'stages',
  'durationSeconds',
  'failure',
  'text',
] as const;

type JsonKey = (typeof JSON_KEYS)[number];

/**
 * The --json object: the outcome's fields in a fixed order, `text` (status, plan) included, with
 * null for what is absent, so a script finds every key on every command. Typed by its keys, so
 * an Outcome that loses one of them no longer compiles here.
 */
export function jsonOutcome(outcome: { readonly [K in JsonKey]: unknown }): Record<JsonKey, unknown> {
  return Object.fromEntries(JSON_KEYS.map((key) => [key, outcome[key] ?? null])) as Record<JsonKey, unknown>;
}

/** The --json object of a run that could not start (bad input, no cluster): result `failed`. */
export function jsonFailure(message: string): Record<JsonKey, unknown> {
  const none = Object.fromEntries(JSON_KEYS.map((key) => [key, null])) as Record<JsonKey, unknown>;
  return { ...none, result: 'failed', failure: message };
}
