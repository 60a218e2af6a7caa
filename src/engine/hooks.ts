// Hooks: a command in a pod, a Job or an HTTP POST at the points of a rollout people need
// (before it, before and after each stage, after it, on a rollback), and the switchover that
// moves the primary role. Pure: their shapes, when each gates, and the JSON an HTTP hook posts
// (its fields are Flagger's webhook payload's spirit: what, where, which revision, which stage).

/** The points a hook runs at. */
export const HOOK_EVENTS = [
  'before-rollout',
  'before-stage',
  'after-stage',
  'after-rollout',
  'rollback',
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** What a hook (or a switchover) does. Strings are templates of HOOK_VARIABLES. */
export type HookCall =
  | {
      readonly kind: 'exec';
      /** The pod to run in, e.g. `{{primary}}`, `{{from}}`, `db-0`. */
      readonly pod: string;
      readonly container: string | undefined;
      readonly command: readonly string[];
      readonly timeoutMs: number;
    }
  | { readonly kind: 'job'; readonly template: Readonly<Record<string, unknown>>; readonly timeoutMs: number }
  | {
      readonly kind: 'http';
      /** POSTed the event as JSON; a 2xx answer passes. */
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly timeoutMs: number;
    };

export interface Hook {
  readonly name: string;
  readonly on: readonly HookEvent[];
  readonly call: HookCall;
}

/** A `before-*` hook gates: its failure stops what it comes before. Others are reported only. */
export function gates(event: HookEvent): boolean {
  return event === 'before-rollout' || event === 'before-stage';
}

/** What a hook is told, and what an HTTP hook posts. */
export interface HookContext {
  readonly event: HookEvent | 'switchover';
  readonly namespace: string;
  readonly statefulset: string;
  /** The revision rolled out (or back to); before-rollout: not known yet, left out. */
  readonly revision?: string | undefined;
  readonly previousRevision?: string | undefined;
  /** 1-based, for stage events. */
  readonly stage?: number | undefined;
  readonly partition?: number | undefined;
  /** The pods the stage restarts (before-stage) or restarted (after-stage). */
  readonly pods?: readonly string[];
  readonly primary?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  /** after-rollout and rollback: how it ended (succeeded, failed, ...). */
  readonly result?: string | undefined;
  readonly runUrl?: string | undefined;
}

/** The `{{...}}` values of a hook's templates. */
export function hookValues(context: HookContext): Record<string, string> {
  return {
    event: context.event,
    namespace: context.namespace,
    statefulset: context.statefulset,
    revision: context.revision ?? '',
    stage: context.stage === undefined ? '' : String(context.stage),
    pods: (context.pods ?? []).join(','),
    pod: context.pods?.[0] ?? '',
    primary: context.primary ?? '',
    from: context.from ?? '',
    to: context.to ?? '',
  };
}

/** How one hook ran, as reports show it. */
export interface HookReport {
  readonly name: string;
  readonly event: HookEvent | 'switchover';
  readonly stage: number | undefined;
  readonly state: 'passed' | 'failed';
  /** What it answered or why it failed (untrusted text from a pod or a server). */
  readonly detail: string;
  readonly at: number;
}

/** One line on a hook, for the plan. */
export function describeHook(hook: Hook): string {
  return `${hook.name}: ${callText(hook.call)}, on ${hook.on.join(', ')}`;
}

function callText(call: HookCall): string {
  switch (call.kind) {
    case 'exec':
      return `exec ${call.command.join(' ')} in ${call.pod}${call.container ? `, container ${call.container}` : ''}`;
    case 'job':
      return 'a Job from its template';
    case 'http':
      return `POST ${call.url}`;
  }
}
