// One round of one check: measure the stage's new pods over HTTP (through the pod proxy or a
// URL) or ask Prometheus, and hand the engine the answers to judge.
import pRetry, { AbortError } from 'p-retry';
import {
  type AnalysisCheck,
  type HttpProbe,
  judgeHttp,
  type Measurement,
  type PrometheusProbe,
} from '../../engine/analysis.ts';
import { measuredSamples, type PromSample, parsePromAnswer, promErrorText } from '../../engine/prometheus.ts';
import { fill, podsRegex } from '../../engine/templates.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import { type HttpClient, type HttpResponse, HttpUnreachable } from '../../ports/http.ts';
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
    return check.probe.kind === 'http'
      ? this.measureHttp(check.name, check.probe, signal)
      : this.measurePrometheus(check.name, check.probe, signal);
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
