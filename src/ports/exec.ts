// The exec port: one command in a container of a pod, through the API server's `pods/exec`
// subresource (create), for exec checks, before-checks, hooks and switchovers. The Kubernetes
// adapter implements it (src/adapters/kubernetes/exec.ts); tests run it on real nodes.

export interface ExecRequest {
  readonly namespace: string;
  readonly pod: string;
  /** The container; the adapter never guesses one: config resolves the default from the template. */
  readonly container: string;
  /** argv, no shell: `['pg_isready', '-q']`. */
  readonly command: readonly string[];
  /** The whole exec, from the request to the exit status. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export interface ExecResult {
  /** The command's exit code; undefined when it did not run (see `error`). */
  readonly exitCode: number | undefined;
  /** Standard output, cut at MAX_EXEC_OUTPUT bytes (see `truncated`), the run's secrets masked. */
  readonly stdout: string;
  /** Standard error, cut and masked the same way. */
  readonly stderr: string;
  /** Output beyond MAX_EXEC_OUTPUT was dropped. */
  readonly truncated: boolean;
  /** Why the command did not run or has no exit code (the runtime's or API server's words). */
  readonly error: string | undefined;
}

/** What of a command's output is kept and judged: a status line or a small JSON document. */
export const MAX_EXEC_OUTPUT = 16 * 1024;

/** The exec got no answer in time, or the connection failed: a failed measurement, not a value. */
export class ExecUnreachable extends Error {
  override readonly name = 'ExecUnreachable';
}

/** RBAC refused `create` on `pods/exec`: waiting cannot fix it. */
export class ExecForbidden extends Error {
  override readonly name = 'ExecForbidden';
}

export interface PodExec {
  /** Runs one command; throws ExecUnreachable or ExecForbidden, else answers how it ended. */
  exec(request: ExecRequest): Promise<ExecResult>;
}
