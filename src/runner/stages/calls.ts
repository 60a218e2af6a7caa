// Runs what a hook or a switchover does (ports: exec, job, http) and says how it went, as one
// line for the log and the report. A call never throws for what it is told by the pod, the
// Job or the server: that is its answer; it throws only when the run is cancelled.

import { oneLine as cutLine } from '../../engine/exec.ts';
import { type HookCall, type HookContext, hookValues } from '../../engine/hooks.ts';
import { fill, fillDeep } from '../../engine/templates.ts';
import type { Cluster, KubeObject } from '../../ports/cluster.ts';
import type { HttpClient } from '../../ports/http.ts';
import { JOB_LABEL, JOB_PURPOSE_LABEL } from '../../ports/job.ts';

export interface CallDeps {
  readonly cluster: Cluster;
  readonly http?: HttpClient;
  /** The pod template's first container: where an exec that names none runs. */
  readonly firstContainer: string;
}

export interface CallAnswer {
  readonly ok: boolean;
  /** What it answered or why it failed (untrusted text), on one line. */
  readonly detail: string;
  /** A Job's log, for a failure's report. */
  readonly log?: { readonly name: string; readonly container: string; readonly text: string };
}

/** Runs `call` (named `name`, for a Job's labels) with `context`'s values in its templates. */
export async function runCall(
  deps: CallDeps,
  name: string,
  call: HookCall,
  context: HookContext,
  signal: AbortSignal,
): Promise<CallAnswer> {
  const values = hookValues(context);
  try {
    switch (call.kind) {
      case 'exec':
        return await execCall(deps, call, context.namespace, values, signal);
      case 'job':
        return await jobCall(deps, name, call, context, values, signal);
      case 'http':
        return await httpCall(deps, call, context, values, signal);
    }
  } catch (error) {
    if (signal.aborted) throw error;
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

async function execCall(
  deps: CallDeps,
  call: Extract<HookCall, { kind: 'exec' }>,
  namespace: string,
  values: Record<string, string>,
  signal: AbortSignal,
): Promise<CallAnswer> {
  if (!deps.cluster.exec) return { ok: false, detail: 'this cluster adapter cannot run commands in pods' };
  const pod = fill(call.pod, values);
  if (pod === '') return { ok: false, detail: `no pod to run in: ${call.pod} is empty here` };
  const answer = await deps.cluster.exec({
    namespace,
    pod,
    container: call.container ?? deps.firstContainer,
    command: call.command.map((arg) => fill(arg, values)),
    timeoutMs: call.timeoutMs,
    signal,
  });
  const out = oneLine(answer.stdout) || oneLine(answer.stderr);
  if (answer.exitCode === 0) return { ok: true, detail: `${pod}: exit 0${out ? `: ${out}` : ''}` };
  if (answer.exitCode === undefined)
    return { ok: false, detail: `${pod}: did not run: ${oneLine(answer.error ?? 'no exit status')}` };
  return {
    ok: false,
    detail: `${pod}: exit ${answer.exitCode}${out ? `: ${oneLine(answer.stderr) || out}` : ''}`,
  };
}

async function jobCall(
  deps: CallDeps,
  name: string,
  call: Extract<HookCall, { kind: 'job' }>,
  context: HookContext,
  values: Record<string, string>,
  signal: AbortSignal,
): Promise<CallAnswer> {
  if (!deps.cluster.runJob) return { ok: false, detail: 'this cluster adapter cannot run Jobs' };
  const job = fillDeep(call.template, values) as unknown as KubeObject;
  const outcome = await deps.cluster.runJob({
    namespace: context.namespace,
    job,
    labels: { [JOB_LABEL]: context.statefulset, [JOB_PURPOSE_LABEL]: name },
    namePrefix: `${context.statefulset}-${name}`,
    timeoutMs: call.timeoutMs,
    signal,
  });
  const container =
    (job.spec as { template?: { spec?: { containers?: { name?: string }[] } } })?.template?.spec
      ?.containers?.[0]?.name ?? 'job';
  const ok = outcome.kind === 'complete';
  return {
    ok,
    detail: `Job ${outcome.name} ${outcome.kind}${outcome.message ? `: ${oneLine(outcome.message)}` : ''}`,
    ...(ok ? {} : { log: { name: outcome.name, container, text: outcome.log } }),
  };
}

async function httpCall(
  deps: CallDeps,
  call: Extract<HookCall, { kind: 'http' }>,
  context: HookContext,
  values: Record<string, string>,
  signal: AbortSignal,
): Promise<CallAnswer> {
  if (!deps.http) return { ok: false, detail: 'no HTTP client was wired into this run' };
  const url = fill(call.url, values);
  const response = await deps.http.request({
    method: 'POST',
    url,
    headers: { 'Content-Type': 'application/json', ...call.headers },
    body: JSON.stringify(context),
    timeoutMs: call.timeoutMs,
    signal,
  });
  const ok = response.status >= 200 && response.status < 300;
  const body = oneLine(response.body);
  return { ok, detail: `POST ${url}: ${response.status}${body ? `: ${body}` : ''}` };
}

/** At most 160 characters, on one line. */
/** A hook's answer on one line: longer than a check's value, it is all a hook says. */
function oneLine(text: string): string {
  return cutLine(text, 160);
}
