// What the simulated app in a pod answers over HTTP, and the metrics the kubelet stand-in
// publishes for it. Like the status behaviours (kubelet-status.ts), it is keyed on the image tag:
// - tag containing `errors`: GET /healthz answers 500 {"status":"degraded",...,"errorRate":0.5},
//   and half of its app_requests_total carry code="500";
// - `idle`: answers as a normal pod but serves no traffic (no app_requests_total series);
// - anything else: GET /healthz answers 200 {"status":"ok","pod":...,"version":<tag>,"errorRate":0}.
// Every pod also answers GET /slow (200 after 2 s, for timeouts), GET /echo-hostile (200) and
// GET /hostile (500) with Markdown/HTML injection text (for inert rendering), 404 to the rest.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { imageTag } from './kubelet-status.ts';

export type Traffic = 'normal' | 'errors' | 'idle';

export const slowDelayMs = 2000;
/** Simulated traffic of a serving pod that is not `idle`. */
export const requestsPerSecond = 20;
/** Text that must stay inert wherever a report shows what a check answered. */
export const hostileBody =
  '</details><img src=x onerror=alert(1)> @octocat ``` [x](javascript:alert(1)) <script>alert(1)</script> #1';

export function trafficOf(image: string | undefined): Traffic {
  const tag = imageTag(image ?? '');
  if (tag.includes('errors')) return 'errors';
  if (tag.includes('idle')) return 'idle';
  return 'normal';
}

/** A pod as the stand-in's pod network sees it. */
export interface PodEndpoint {
  uid: string;
  namespace: string;
  name: string;
  ip: string;
  /** Name of the StatefulSet owning the pod ('' if none). */
  statefulset: string;
  /** The pod's controller-revision-hash label ('' if none). */
  revision: string;
  containers: { image: string; ports: number[] }[];
  /** Since when (ms) its containers run and serve; undefined while they do not. */
  servingSince(): number | undefined;
}

/** The container answering on `port`, or (port undefined) the first with a port, else the first. */
export function containerFor(
  pod: PodEndpoint,
  port?: number,
): { image: string; ports: number[] } | undefined {
  if (port !== undefined) return pod.containers.find((c) => c.ports.includes(port));
  return pod.containers.find((c) => c.ports.length > 0) ?? pod.containers[0];
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

const json = (status: number, body: unknown): Answer => ({
  status,
  type: 'application/json',
  body: `${JSON.stringify(body)}\n`,
});
const text = (status: number, body: string): Answer => ({
  status,
  type: 'text/plain; charset=utf-8',
  body: `${body}\n`,
});

/** What the app of pod `podName` (its container `image`) answers to `method` `path`, except /slow. */
export function podAnswer(podName: string, image: string, method: string, path: string): Answer {
  const version = imageTag(image);
  const route = path.split('?')[0];
  if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed');
  switch (route) {
    case '/healthz':
      return trafficOf(image) === 'errors'
        ? json(500, { status: 'degraded', pod: podName, version, errorRate: 0.5 })
        : json(200, { status: 'ok', pod: podName, version, errorRate: 0 });
    case '/slow':
      return json(200, { status: 'ok', pod: podName, version });
    case '/echo-hostile':
      return text(200, hostileBody);
    case '/hostile':
      return text(500, hostileBody);
    default:
      return text(404, `404 page not found: ${route}`);
  }
}

/** Answers one request to the app in `pod` (its container `image`) at `path`; /slow after 2 s. */
export function servePod(
  pod: PodEndpoint,
  image: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const answer = podAnswer(pod.name, image, req.method ?? 'GET', path);
  const send = (): void => {
    res.writeHead(answer.status, { 'content-type': answer.type });
    res.end(answer.body);
  };
  if (answer.status !== 200 || path.split('?')[0] !== '/slow') {
    send();
    return;
  }
  const timer = setTimeout(send, slowDelayMs);
  res.on('close', () => clearTimeout(timer));
}

const label = (value: string): string =>
  value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${label(v)}"`)
    .join(',')}}`;

/**
 * The Prometheus text exposition of every serving pod: app_requests_total (20 requests/s since
 * the pod started serving, computed from the clock, so it is the same whoever scrapes and when)
 * and app_up.
 */
export function metricsText(pods: Iterable<PodEndpoint>, nowMs: number): string {
  const requests: string[] = [];
  const up: string[] = [];
  for (const pod of pods) {
    const since = pod.servingSince();
    if (since === undefined) continue;
    const id = { namespace: pod.namespace, pod: pod.name };
    up.push(`app_up${labels(id)} 1`);
    const traffic = trafficOf(containerFor(pod)?.image);
    if (traffic === 'idle') continue;
    const total = Math.floor((Math.max(0, nowMs - since) * requestsPerSecond) / 1000);
    const failed = traffic === 'errors' ? Math.floor(total / 2) : 0;
    const series = { ...id, statefulset: pod.statefulset, revision: pod.revision };
    requests.push(`app_requests_total${labels({ ...series, code: '200' })} ${total - failed}`);
    if (traffic === 'errors')
      requests.push(`app_requests_total${labels({ ...series, code: '500' })} ${failed}`);
  }
  return [
    '# HELP app_requests_total HTTP requests the simulated app served.',
    '# TYPE app_requests_total counter',
    ...requests,
    '# HELP app_up Whether the simulated app runs.',
    '# TYPE app_up gauge',
    ...up,
    '',
  ].join('\n');
}
