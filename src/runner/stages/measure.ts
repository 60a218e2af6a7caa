// One round of one check: measure the stage's new pods over HTTP (through the pod proxy or a
// URL) or ask Prometheus, and hand the engine the answers to judge.

import pRetry, { AbortError } from 'p-retry';
import {
  type AnalysisCheck,
  type ExecProbe,
  type HttpProbe,
  type JobProbe,
  judgeHttp,
  type Measurement,
  type PrometheusProbe,
} from '../../engine/analysis.ts';
import { judgeExec } from '../../engine/exec.ts';
import { measuredSamples, type PromSample, parsePromAnswer, promErrorText } from '../../engine/prometheus.ts';
import { fill, fillDeep, podsRegex } from '../../engine/templates.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, KubeObject, StatefulSetRef } from '../../ports/cluster.ts';
import { ExecForbidden, ExecUnreachable } from '../../ports/exec.ts';
import { type HttpClient, type HttpResponse, HttpUnreachable } from '../../ports/http.ts';
import { JOB_LABEL, JOB_PURPOSE_LABEL, JobRefused } from '../../ports/job.ts';
import type { Log } from '../../ports/log.ts';
import type { Round } from './check-run.ts';

export interface AnalysisDeps {
  readonly cluster: Cluster;
  readonly clock: Clock;
  readonly log: Log;
  readonly http: HttpClient;
}

/** What a stage's analysis measures. */
export interface AnalysisTarget {
  readonly ref: StatefulSetRef;
  readonly revision: string;
  /** 1-based. */
  readonly stage: number;
  /** The pods this stage moved to the new revision, with their ordinals. */
  readonly pods: readonly { readonly name: string; readonly ordinal: number }[];
  readonly soakMs: number;
  /** Container port names of the template, to their numbers. */
  readonly ports: Readonly<Record<string, number>>;
  /** The template's first container: where an exec check that names none runs. */
  readonly firstContainer: string;
}

/** Measures the checks of one stage's analysis, a round at a time. */
export class Measurer {
  private readonly deps: AnalysisDeps;
  private readonly target: AnalysisTarget;

  constructor(deps: AnalysisDeps, target: AnalysisTarget) {
    this.deps = deps;
    this.target = target;
  }

  /** One round of `check`. */
  measure(check: AnalysisCheck, signal: AbortSignal): Promise<Round> {
    const { probe } = check;
    switch (probe.kind) {
      case 'http':
        return this.measureHttp(check.name, probe, signal);
      case 'prometheus':
        return this.measurePrometheus(check.name, probe, signal);
      case 'exec':
        return this.measureExec(check.name, probe, signal);
      case 'job':
        return this.measureJob(check.name, probe, signal);
    }
  }

  /** The command in each pod at once: one pods/exec request a pod. */
  private async measureExec(name: string, probe: ExecProbe, signal: AbortSignal): Promise<Round> {
    const { cluster, clock } = this.deps;
    const exec = cluster.exec;
    if (!exec)
      return { kind: 'fatal', error: 'this cluster adapter cannot run commands in pods (pods/exec)' };
    const container = probe.container ?? this.target.firstContainer;
    const results = await Promise.all(
      this.target.pods.map(async (pod): Promise<Measurement | string> => {
        const command = probe.command.map((arg) =>
          fill(arg, { ...this.values(), pod: pod.name, ordinal: String(pod.ordinal) }),
        );
        const measured = (value: string, verdict: Measurement['verdict']): Measurement => ({
          check: name,
          subject: pod.name,
          at: clock.now(),
          value,
          verdict,
        });
        try {
          const answer = await cluster.exec?.({
            namespace: this.target.ref.namespace,
            pod: pod.name,
            container,
            command,
            timeoutMs: probe.timeoutMs,
            signal,
          });
          if (!answer) return 'this cluster adapter cannot run commands in pods (pods/exec)';
          const judged = judgeExec(probe, answer);
          return measured(judged.value, judged.verdict);
        } catch (error) {
          if (error instanceof ExecUnreachable) return measured(`no answer: ${error.message}`, 'fail');
          if (error instanceof ExecForbidden) return error.message;
          return error instanceof Error ? error.message : String(error);
        }
      }),
    );
    const fatal = results.find((r): r is string => typeof r === 'string');
    if (fatal !== undefined) return { kind: 'fatal', error: fatal };
    return { kind: 'measured', measurements: results as Measurement[] };
  }

  /** One Job for the stage's pods, run to its end and deleted: complete passes. */
  private async measureJob(name: string, probe: JobProbe, signal: AbortSignal): Promise<Round> {
    const { cluster, clock } = this.deps;
    if (!cluster.runJob) return { kind: 'fatal', error: 'this cluster adapter cannot run Jobs' };
    const { ref, stage, pods } = this.target;
    const job = fillDeep(probe.template, {
      ...this.values(),
      pod: pods[0]?.name ?? '',
      pods: pods.map((p) => p.name).join(','),
    }) as unknown as KubeObject;
    try {
      const outcome = await cluster.runJob({
        namespace: ref.namespace,
        job,
        labels: { [JOB_LABEL]: ref.name, [JOB_PURPOSE_LABEL]: name },
        namePrefix: `${ref.name}-${name}-${stage}`,
        timeoutMs: probe.timeoutMs,
        signal,
      });
      if (outcome.kind === 'cancelled') return { kind: 'error', error: `Job ${outcome.name} cancelled` };
      const passed = outcome.kind === 'complete';
      const value = `Job ${outcome.name} ${passed ? 'complete' : outcome.kind === 'timeout' ? 'timed out' : 'failed'}${outcome.message ? `: ${outcome.message}` : ''}`;
      const measurement: Measurement = {
        check: name,
        subject: outcome.name,
        at: clock.now(),
        value,
        verdict: passed ? 'pass' : 'fail',
        job: { name: outcome.name, container: jobContainer(job), log: outcome.log },
      };
      return { kind: 'measured', measurements: [measurement] };
    } catch (error) {
      if (error instanceof JobRefused) return { kind: 'fatal', error: error.message };
      if (signal.aborted) return { kind: 'error', error: 'cancelled' };
      // A Job that could not be run is a failed measurement: the check must not wait forever.
      const why = error instanceof Error ? error.message : String(error);
      return {
        kind: 'measured',
        measurements: [
          {
            check: name,
            subject: `Job ${name}`,
            at: clock.now(),
            value: `could not run: ${why}`,
            verdict: 'fail',
          },
        ],
      };
    }
  }

  private async measureHttp(name: string, probe: HttpProbe, signal: AbortSignal): Promise<Round> {
    const results = await Promise.all(
      this.target.pods.map(async (pod): Promise<Measurement | string> => {
        try {
          const response = await this.httpOnce(probe, pod, signal);
          return { check: name, subject: pod.name, at: this.deps.clock.now(), ...judgeHttp(probe, response) };
        } catch (error) {
          if (error instanceof HttpUnreachable) {
            return {
              check: name,
              subject: pod.name,
              at: this.deps.clock.now(),
              value: `no answer: ${error.message}`,
              verdict: 'fail',
            };
          }
          return error instanceof Error ? error.message : String(error);
        }
      }),
    );
    const fatal = results.find((r): r is string => typeof r === 'string');
    if (fatal !== undefined) return { kind: 'fatal', error: fatal };
    return { kind: 'measured', measurements: results as Measurement[] };
  }

  private httpOnce(
    probe: HttpProbe,
    pod: { name: string; ordinal: number },
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    const base = { method: probe.method, headers: probe.headers, timeoutMs: probe.timeoutMs, signal };
    if (probe.url !== undefined) {
      const url = fill(probe.url, { ...this.values(), pod: pod.name, ordinal: String(pod.ordinal) });
      return this.deps.http.request({ ...base, url });
    }
    const { cluster } = this.deps;
    if (!cluster.proxyPod) throw new Error('this cluster adapter cannot reach pods through the pod proxy');
    const port = typeof probe.port === 'number' ? probe.port : this.target.ports[probe.port ?? ''];
    if (port === undefined)
      throw new Error(`no container of the pod template declares a port named ${probe.port}`);
    return cluster.proxyPod(this.target.ref, pod.name, port, { ...base, path: probe.path });
  }

  private async measurePrometheus(name: string, probe: PrometheusProbe, signal: AbortSignal): Promise<Round> {
    const perPod = /\{\{\s*pod\s*\}\}/.test(probe.query);
    const names = this.target.pods.map((p) => p.name);
    // One query a pod ({{pod}}, all at once), or one for the stage's pods, named by them all.
    const subjects = perPod ? names : [names.join(', ')];
    let answers: { subject: string; samples: PromSample[] }[];
    try {
      answers = await Promise.all(
        subjects.map(async (subject) => {
          const query = fill(probe.query, { ...this.values(), ...(perPod ? { pod: subject } : {}) });
          return { subject, samples: await this.queryPrometheus(probe, query, signal) };
        }),
      );
    } catch (error) {
      return { kind: 'error', error: error instanceof Error ? error.message : String(error) };
    }
    const at = this.deps.clock.now();
    const measurements = answers.flatMap(({ subject, samples }) =>
      measuredSamples(name, probe, samples, subject, at),
    );
    return { kind: 'measured', measurements };
  }

  /** One instant query, retried (p-retry) when Prometheus is unreachable or answers 5xx/429. */
  private queryPrometheus(probe: PrometheusProbe, query: string, signal: AbortSignal) {
    const url = `${probe.address}/api/v1/query?${new URLSearchParams({ query })}`;
    return pRetry(
      async () => {
        const response = await this.deps.http.request({
          method: 'GET',
          url,
          headers: { Accept: 'application/json', ...probe.headers },
          timeoutMs: probe.timeoutMs,
          signal,
        });
        const { status, body } = response;
        if (status >= 500 || status === 429)
          throw new Error(`Prometheus answered ${status}: ${body.slice(0, 200)}`);
        if (status !== 200) throw new AbortError(`Prometheus answered ${status}: ${promErrorText(body)}`);
        try {
          return parsePromAnswer(body);
        } catch (error) {
          throw new AbortError((error as Error).message);
        }
      },
      { retries: 2, minTimeout: 200, maxTimeout: 1000, signal },
    ).catch((error: unknown) => {
      if (error instanceof HttpUnreachable)
        throw new Error(`Prometheus unreachable at ${probe.address}: ${error.message}`);
      throw error;
    });
  }

  private values(): Record<string, string> {
    // A pod's placeholders ({{pod}}, {{ordinal}}) are set where one pod is measured.
    const { ref, revision, stage, pods } = this.target;
    return {
      namespace: ref.namespace,
      statefulset: ref.name,
      revision,
      stage: String(stage),
      pods: podsRegex(pods.map((p) => p.name)),
    };
  }
}

/** The first container's name of a Job's pod template. */
function jobContainer(job: KubeObject): string {
  const spec = job.spec as { template?: { spec?: { containers?: { name?: string }[] } } } | undefined;
  return spec?.template?.spec?.containers?.[0]?.name ?? 'job';
}
