import { writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { loopbackCertificate } from '../test/cluster/control-plane/pki.ts';
import { now } from './stats.ts';

export interface RecordedRequest {
  /** Arrival time of the request headers (epoch ms, sub-ms precision). */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Audit-log verb: get, list, watch, create, update, patch, delete, deletecollection. */
  readonly verb: string;
  /**
   * Resource (`pods`, `statefulsets`, ...), with its subresource as the audit log and RBAC name it
   * (`pods/log`, `pods/proxy`, `statefulsets/status`); `discovery` for /api, /apis/... without one.
   */
  readonly resource: string;
  readonly name: string | undefined;
  readonly contentType: string;
  /** The request body, kept for PATCH/POST/PUT (small). */
  body: string;
  status: number;
  responseBytes: number;
}

export type WatchListener = (request: RecordedRequest, at: number, type: string, object: unknown) => void;

export interface RecordingProxy {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** TLS connections accepted (time of the handshake's end). */
  readonly connections: number[];
  /** Writes a kubeconfig for this proxy (context `local`, namespace `namespace`); returns its path. */
  kubeconfigFor(namespace: string): string;
  /** Forgets what was recorded so far. */
  reset(): void;
  onWatchEvent(listener: WatchListener | undefined): void;
  close(): Promise<void>;
}

/** Audit-log verb and resource of a request, from its method, path and query. */
export function classify(
  method: string,
  path: string,
  query: URLSearchParams,
): { verb: string; resource: string; name: string | undefined } {
  const parts = path.split('/').filter((p) => p !== '');
  // /api/v1/... or /apis/<group>/<version>/...
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : [];
  const scoped = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  // .../pods/web-9/log: the subresource is the path segment after the name.
  const resource = scoped[2] === undefined ? (scoped[0] ?? 'discovery') : `${scoped[0]}/${scoped[2]}`;
  const name = scoped[1];
  const watching = query.get('watch') === 'true' || query.get('watch') === '1';
  const verbs: Record<string, string> = {
    GET: watching ? 'watch' : name === undefined && resource !== 'discovery' ? 'list' : 'get',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name === undefined ? 'deletecollection' : 'delete',
  };
  return { verb: verbs[method] ?? method.toLowerCase(), resource, name };
}

/** Starts a proxy to the cluster of `upstream` (its current context); `dir` receives kubeconfigs. */
export async function startProxy(
  upstream: KubeConfig,
  dir: string,
  /** false reproduces a proxy that holds response headers until the first body bytes. */
  flushHeaders = process.env.BENCH_HOLD_HEADERS !== '1',
): Promise<RecordingProxy> {
  const cluster = upstream.getCurrentCluster();
  const user = upstream.getCurrentUser();
  if (!cluster || !user?.token)
    throw new Error('bench proxy: the upstream kubeconfig needs a cluster and a token');
  const target = new URL(cluster.server);
  if (target.hostname !== '127.0.0.1')
    throw new Error(`bench proxy: upstream ${cluster.server} is not loopback`);
  const ca = cluster.caData ? Buffer.from(cluster.caData, 'base64') : undefined;
  const agent = new Agent({ keepAlive: true, ca, maxSockets: 64 });
  const requests: RecordedRequest[] = [];
  const connections: number[] = [];
  let listener: WatchListener | undefined;
  const tunnels = new Set<Duplex>();

  const server = createServer(loopbackCertificate('bench-proxy'), (req, res) => {
    const at = now();
    const url = new URL(req.url ?? '/', 'https://proxy');
    const { verb, resource, name } = classify(req.method ?? 'GET', url.pathname, url.searchParams);
    const record: RecordedRequest = {
      at,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      verb,
      resource,
      name,
      contentType: String(req.headers['content-type'] ?? ''),
      body: '',
      status: 0,
      responseBytes: 0,
    };
    requests.push(record);
    const headers = { ...req.headers, host: target.host };
    // Watch streams are read below, so ask for them uncompressed.
    if (verb === 'watch') delete headers['accept-encoding'];
    const upstreamReq = httpsRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (upstreamRes) => {
        record.status = upstreamRes.statusCode ?? 0;
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        // The API server sends a watch's headers at once; Node would hold them until the first
        // event, which would delay the client's watch open (and anything waiting on it).
        if (flushHeaders) res.flushHeaders();
        let pending = '';
        upstreamRes.on('data', (chunk: Buffer) => {
          record.responseBytes += chunk.length;
          res.write(chunk);
          if (verb !== 'watch' || !listener) return;
          const t = now();
          pending += chunk.toString('utf8');
          let newline = pending.indexOf('\n');
          while (newline >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            newline = pending.indexOf('\n');
            if (line.trim() === '') continue;
            const event = JSON.parse(line) as { type: string; object: unknown };
            listener?.(record, t, event.type, event.object);
          }
        });
        upstreamRes.on('end', () => res.end());
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstreamReq.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.on('data', (chunk: Buffer) => {
      if (record.body.length < 65_536) record.body += chunk.toString('utf8');
      upstreamReq.write(chunk);
    });
    req.on('end', () => upstreamReq.end());
    // The client went away (a watch it aborted): drop the upstream request too.
    res.on('close', () => upstreamReq.destroy());
  });
  // pods/exec (and attach, port-forward) upgrade to a WebSocket: recorded like any request,
  // then the two sockets are joined both ways.
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const { verb, resource, name } = classify(req.method ?? 'GET', url.pathname, url.searchParams);
    const record: RecordedRequest = {
      at: now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      verb,
      resource,
      name,
      contentType: '',
      body: '',
      status: 0,
      responseBytes: 0,
    };
    requests.push(record);
    // The HTTP server forgets upgraded sockets (closeAllConnections() does not reach them).
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    const upstreamReq = httpsRequest({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
      ca,
    });
    upstreamReq.on('upgrade', (res, upstream, upstreamHead) => {
      record.status = res.statusCode ?? 101;
      const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage}`];
      for (let i = 0; i < res.rawHeaders.length; i += 2)
        lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upstreamHead.length) socket.write(upstreamHead);
      if (head.length) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      // A WebSocket has no half-close. When the API server ends the exec stream, the pipe only
      // ends our side of the client socket: it is then half open and no longer read, so it
      // never sees the client go and stays open for ever (and server.close() waits for it).
      upstream.on('close', () => closeSoon(socket));
      socket.on('close', () => upstream.destroy());
    });
    upstreamReq.on('response', (res) => {
      // Refused (403, 404): pass the answer on as it came.
      record.status = res.statusCode ?? 0;
      socket.write(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\nConnection: close\r\n\r\n`);
      res.pipe(socket, { end: false });
      res.on('end', () => closeSoon(socket));
    });
    upstreamReq.on('error', () => socket.destroy());
    upstreamReq.end();
  });
  server.on('secureConnection', () => connections.push(now()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;

  return {
    url,
    requests,
    connections,
    kubeconfigFor(namespace) {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'local', server: url, skipTLSVerify: true }],
        users: [{ name: 'admin', token: user.token }],
        contexts: [{ name: 'local', cluster: 'local', user: 'admin', namespace }],
        currentContext: 'local',
      });
      const path = join(dir, `proxy-${namespace}.kubeconfig`);
      writeFileSync(path, kc.exportConfig(), { mode: 0o600 });
      return path;
    },
    reset() {
      requests.length = 0;
      connections.length = 0;
    },
    onWatchEvent(l) {
      listener = l;
    },
    close() {
      server.closeAllConnections();
      for (const socket of tunnels) socket.destroy();
      agent.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Ends `socket` once what was written to it is sent, then closes it. */
function closeSoon(socket: Duplex): void {
  socket.end(() => socket.destroy());
}

/** Requests by verb, and by `verb resource`, for a report. */
export function countByVerb(requests: readonly RecordedRequest[]): {
  total: number;
  byVerb: Record<string, number>;
  byVerbAndResource: Record<string, number>;
  responseBytes: number;
} {
  const byVerb: Record<string, number> = {};
  const byVerbAndResource: Record<string, number> = {};
  let responseBytes = 0;
  for (const r of requests) {
    byVerb[r.verb] = (byVerb[r.verb] ?? 0) + 1;
    const key = `${r.verb} ${r.resource}`;
    byVerbAndResource[key] = (byVerbAndResource[key] ?? 0) + 1;
    responseBytes += r.responseBytes;
  }
  return { total: requests.length, byVerb, byVerbAndResource, responseBytes };
}
