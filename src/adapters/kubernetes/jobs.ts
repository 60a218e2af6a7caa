// A Kubernetes Job for a check or a hook: created under a unique name, awaited with a watch on
// that one Job until it is Complete or Failed (or the time is up, or the run is cancelled), the
// last lines of its newest pod's log read, and then always deleted with its pods. RBAC: create,
// list, watch and delete on jobs.batch; list on pods; get on pods/log.
import { randomInt } from 'node:crypto';
import { crashLog, maskSecrets } from '../../engine/crash-log.ts';
import type { Clock } from '../../ports/clock.ts';
import type { KubeObject } from '../../ports/cluster.ts';
import { type JobOutcome, JobRefused, type JobRequest } from '../../ports/job.ts';
import { KubeError, type Operation } from './errors.ts';
import { readCrashLog } from './evidence.ts';
import type { Api } from './http.ts';
import { podsPath } from './paths.ts';
import type { RawList, RawMeta } from './types.ts';
import type { Resource } from './watch/resources.ts';
import { follow, type WatchStats } from './watch/stream.ts';

const enc = encodeURIComponent;
const jobsPath = (namespace: string): string => `/apis/batch/v1/namespaces/${enc(namespace)}/jobs`;

interface RawJob {
  readonly metadata?: RawMeta;
  readonly spec?: { readonly template?: { readonly spec?: { readonly containers?: { name?: string }[] } } };
  readonly status?: {
    readonly conditions?: readonly { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

interface RawJobPod {
  readonly metadata?: RawMeta & { readonly creationTimestamp?: string };
  readonly spec?: { readonly containers?: readonly { readonly name?: string }[] };
}

export interface JobContext {
  readonly api: Api;
  readonly clock: Clock;
  readonly stats: WatchStats;
  readonly secrets: readonly string[];
}

/** `prefix-x7k2q`: 5 random [a-z0-9], the prefix cut so the whole is a DNS label (≤ 63). */
export function jobName(prefix: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const suffix = Array.from({ length: 5 }, () => alphabet[randomInt(alphabet.length)]).join('');
  const head = prefix.slice(0, 63 - suffix.length - 1).replace(/[^a-z0-9]+$/, '');
  return head === '' ? suffix : `${head}-${suffix}`;
}

type Labels = Readonly<Record<string, string>>;

function withLabels(meta: unknown, labels: Labels): Record<string, unknown> {
  const base = (meta ?? {}) as { labels?: Labels };
  return { ...base, labels: { ...base.labels, ...labels } };
}

/**
 * The request's Job under `name` in its namespace, the labels on it and on its pod template. A
 * template written in a check may have no metadata at all, whatever the type says.
 */
export function jobBody(request: JobRequest, name: string): KubeObject {
  const { job, labels, namespace } = request;
  const { generateName: _generated, ...meta } = (job.metadata ?? {}) as Partial<KubeObject['metadata']>;
  const spec = (job.spec ?? {}) as { template?: { metadata?: unknown } };
  const template = { ...spec.template, metadata: withLabels(spec.template?.metadata, labels) };
  return {
    ...job,
    metadata: { ...withLabels(meta, labels), name, namespace },
    spec: { ...spec, template },
  };
}

const jobOp = (verb: string, namespace: string, name?: string): Operation => ({
  verb,
  kind: 'Job',
  namespace,
  name,
});

async function createJob(api: Api, request: JobRequest, body: KubeObject): Promise<void> {
  const { namespace } = request;
  const name = body.metadata.name;
  try {
    await api.request(
      jobOp('create', namespace, name),
      // Strict: a misspelt field of the template is refused, not dropped. No signal: a create
      // cut off midway might still have made the Job, which the caller then would not delete.
      { method: 'POST', path: jobsPath(namespace), query: { fieldValidation: 'Strict' }, body },
    );
  } catch (error) {
    // 409: a retried create whose first attempt did create it (the name is ours alone).
    if (error instanceof KubeError && error.status === 409) return;
    if (error instanceof KubeError && error.status === 403) {
      throw new JobRefused(
        `the API server refused to create Job ${namespace}/${name} (403): ${error.serverSays}. Jobs for ` +
          `checks and hooks need create, list, watch and delete on jobs.batch and get on pods/log in namespace ` +
          `${namespace}: add the opt-in Job rule from examples/rbac.yaml (docs/permissions.md)`,
      );
    }
    if (error instanceof KubeError && (error.status === 422 || error.status === 400)) {
      throw new JobRefused(
        `the API server refused Job ${namespace}/${name} as invalid (${error.status}): ${error.serverSays}. ` +
          'Fix that field in the Job of the check or hook.',
      );
    }
    throw error;
  }
}

type End = Pick<JobOutcome, 'kind' | 'message'>;

/** Complete=True or Failed=True, else undefined (still running). */
function jobEnd(job: RawJob | undefined, name: string): End | undefined {
  if (job === undefined) return { kind: 'failed', message: `Job ${name} was deleted before it ended` };
  const condition = (type: string) =>
    job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  if (condition('Complete')) return { kind: 'complete', message: '' };
  const failed = condition('Failed');
  if (failed) return { kind: 'failed', message: failed.message || failed.reason || 'the Job failed' };
  return undefined;
}

/** Watches the one Job until it ends or `stop` aborts; undefined when it did not end. */
async function awaitEnd(context: JobContext, namespace: string, name: string, stop: AbortSignal) {
  const { api, clock, stats } = context;
  const ended = new AbortController();
  const signal = AbortSignal.any([stop, ended.signal]);
  let job: RawJob | undefined;
  let end: End | undefined;
  const check = (): void => {
    end ??= jobEnd(job, name);
    if (end) ended.abort();
  };
  const selector = { fieldSelector: `metadata.name=${name}` };
  const resource: Resource = {
    operation: jobOp('watch', namespace, name),
    path: jobsPath(namespace),
    selector,
    resourceVersion: '',
    async relist() {
      const list = await api.request<RawList<RawJob>>(
        jobOp('list', namespace, name),
        { method: 'GET', path: jobsPath(namespace), query: selector },
        signal,
      );
      job = list.items?.[0];
      return list.metadata?.resourceVersion ?? '';
    },
    apply(type, object) {
      job = type === 'DELETED' ? undefined : (object as RawJob);
    },
  };
  try {
    resource.resourceVersion = await resource.relist();
    check();
    if (!end) await follow({ api, resource, onEvent: check, signal, stats, clock });
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return end;
}

/** The last lines of the newest pod's log (secrets masked), or a note why there are none. */
async function jobLog(context: JobContext, namespace: string, name: string): Promise<string> {
  const { api, secrets } = context;
  let pods: readonly RawJobPod[] = [];
  for (const label of ['batch.kubernetes.io/job-name', 'job-name']) {
    const list = await api.request<RawList<RawJobPod>>(
      { verb: 'list', kind: 'pods', namespace },
      { method: 'GET', path: podsPath(namespace), query: { labelSelector: `${label}=${name}` } },
    );
    pods = list.items ?? [];
    if (pods.length > 0) break;
  }
  const newest = [...pods].sort((a, b) =>
    (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? ''),
  )[0];
  if (newest === undefined) return '(no pod of the Job was found)';
  const target = {
    pod: newest.metadata?.name ?? '',
    container: newest.spec?.containers?.[0]?.name ?? '',
    previous: false,
  };
  const log = crashLog(target, await readCrashLog(api, namespace, target, secrets));
  return log.note === undefined ? log.lines.join('\n') : `(${target.pod}: ${log.note})`;
}

/** jobLog, or why it could not be read: a log is evidence, so its failure must not hide the outcome. */
async function jobLogOrNote(context: JobContext, namespace: string, name: string): Promise<string> {
  try {
    return await jobLog(context, namespace, name);
  } catch (error) {
    return `(could not read the log of Job ${name}: ${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Deletes a Job and, in the background, its pods; one already gone is fine. */
async function deleteJob(api: Api, namespace: string, name: string): Promise<void> {
  try {
    await api.request(jobOp('delete', namespace, name), {
      method: 'DELETE',
      path: `${jobsPath(namespace)}/${enc(name)}`,
      body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
    });
  } catch (error) {
    if (!(error instanceof KubeError && error.status === 404)) throw error;
  }
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/** Creates the Job, awaits its end, reads its log, and deletes it (see Jobs.runJob). */
export async function runJob(context: JobContext, request: JobRequest): Promise<JobOutcome> {
  const { api, clock } = context;
  const { namespace } = request;
  const name = jobName(request.namePrefix);
  const started = clock.now();
  if (request.signal.aborted)
    return { kind: 'cancelled', name, message: 'cancelled before it was created', log: '' };
  try {
    await createJob(api, request, jobBody(request, name));
  } catch (error) {
    // A create that failed midway (retries spent) may still have made the Job: delete it if so.
    if (!(error instanceof JobRefused)) await deleteJob(api, namespace, name).catch(() => undefined);
    throw error;
  }
  try {
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const end = await awaitEnd(context, namespace, name, AbortSignal.any([request.signal, timeout]));
    const ran = seconds(clock.now() - started);
    if (end === undefined && !timeout.aborted)
      return { kind: 'cancelled', name, message: `cancelled after ${ran}`, log: '' };
    const outcome: End = end ?? {
      kind: 'timeout',
      message: `did not end within ${seconds(request.timeoutMs)}`,
    };
    // A failure message may quote the pod (a pod failure policy's rule): masked like its log.
    const message =
      outcome.kind === 'complete' ? `completed in ${ran}` : maskSecrets(outcome.message, context.secrets);
    return { kind: outcome.kind, name, message, log: await jobLogOrNote(context, namespace, name) };
  } finally {
    await deleteJob(api, namespace, name);
  }
}

/** Deletes the Jobs `labels` select (with their pods); returns their names. */
export async function removeJobs(api: Api, namespace: string, labels: Labels): Promise<string[]> {
  const labelSelector = Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const list = await api.request<RawList<RawJob>>(
    { verb: 'list', kind: 'jobs', namespace },
    { method: 'GET', path: jobsPath(namespace), query: { labelSelector } },
  );
  const names = (list.items ?? []).map((job) => job.metadata?.name ?? '').filter((n) => n !== '');
  for (const name of names) await deleteJob(api, namespace, name);
  return names;
}
