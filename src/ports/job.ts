// The job port: a Kubernetes Job created for a check or a hook, awaited to its end, and always
// deleted afterwards. The Kubernetes adapter implements it (src/adapters/kubernetes/jobs.ts).
import type { KubeObject } from './object.ts';

/** The label every Job this action creates carries, with the StatefulSet's name as its value. */
export const JOB_LABEL = 'statefulset-canary.io/statefulset';
/** The label naming the check or hook a Job was created for. */
export const JOB_PURPOSE_LABEL = 'statefulset-canary.io/for';

export interface JobRequest {
  readonly namespace: string;
  /** A batch/v1 Job with placeholders filled; its name is replaced by a unique one. */
  readonly job: KubeObject;
  /** Added to the Job and its pod template (JOB_LABEL, JOB_PURPOSE_LABEL). */
  readonly labels: Readonly<Record<string, string>>;
  /** The Job's name prefix; a random suffix makes it unique. */
  readonly namePrefix: string;
  /** From creation to Complete or Failed; past it the Job is deleted and the answer is `timeout`. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export interface JobOutcome {
  /** `cancelled`: the signal aborted first; the Job was deleted all the same. */
  readonly kind: 'complete' | 'failed' | 'timeout' | 'cancelled';
  /** The Job's name as created. */
  readonly name: string;
  /** The Job's condition message (failed), or how long it ran. */
  readonly message: string;
  /** The last lines of its (last) pod's log, bounded and with the run's secrets masked. */
  readonly log: string;
}

/** A Job the API server refused to create (RBAC, an invalid template). Waiting cannot fix it. */
export class JobRefused extends Error {
  override readonly name = 'JobRefused';
}

export interface Jobs {
  /** Creates the Job, waits (a watch) until it completes, fails or times out, then deletes it and its pods. */
  runJob(request: JobRequest): Promise<JobOutcome>;
  /** Deletes Jobs a run left behind (a crash, a SIGKILL), found by `labels`; returns their names. */
  removeJobs(namespace: string, labels: Readonly<Record<string, string>>): Promise<string[]>;
}
