import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { loopbackCertificate } from '../../cluster/control-plane/pki.ts';

export interface FaultPlan {
  readonly status500?: number;
  readonly status429?: number;
  /** Retry-After sent with 429 (default 1 s). */
  readonly retryAfterSeconds?: number;
  readonly reset?: number;
  readonly lostReply?: number;
  readonly cutWatchesEveryMs?: number;
  /** Seed of the fault generator (default 1). */
  readonly seed?: number;
  /** Only requests this accepts get faults (default: all), e.g. to hit one write. */
  readonly only?: (method: string, path: string) => boolean;
  /** Stop injecting (cuts excepted) after this many faults (default: no limit). */
  readonly maxFaults?: number;
}

export interface FaultCounts {
  requests: number;
  watches: number;
  forwarded: number;
  status500: number;
  status429: number;
  resets: number;
  lostReplies: number;
  watchCuts: number;
}

export interface SeenRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly contentType: string | undefined;
}

export interface FaultProxy {
  readonly url: string;
  readonly counts: Readonly<FaultCounts>;
  /** Every request received, in order (faulted ones included). */
  readonly seen: readonly SeenRequest[];
  /** The admin credentials with the server replaced by the proxy, namespace `namespace`. */
  kubeConfig(namespace: string): KubeConfig;
  /** Replaces the fault plan (counts are kept). */
  setFaults(plan: FaultPlan): void;
  /** Cuts every watch open now (as a restarted API server or a load balancer would); returns how many. */
  cutWatches(): number;
  close(): Promise<void>;
}

/** mulberry32: a small seeded generator, so a fault sequence can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function status(
  res: ServerResponse,
  code: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message: `fault proxy: injected ${code}`,
    reason,
    code,
  });
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

function isWatch(url: string): boolean {
  const watch = new URL(url, 'https://x').searchParams.get('watch');
  return watch === 'true' || watch === '1';
}

export async function startFaultProxy(admin: KubeConfig, initial: FaultPlan = {}): Promise<FaultProxy> {
  const cluster = admin.getCurrentCluster();
  if (!cluster?.caData) throw new Error('the admin kubeconfig has no certificate-authority-data');
  const upstream = new URL(cluster.server);
  const agent = new HttpsAgent({
    keepAlive: true,
    ca: Buffer.from(cluster.caData, 'base64').toString('utf8'),
  });
  const { cert, key } = loopbackCertificate('fault-proxy');
  const counts: FaultCounts = {
    requests: 0,
    watches: 0,
    forwarded: 0,
    status500: 0,
    status429: 0,
    resets: 0,
    lostReplies: 0,
    watchCuts: 0,
  };
  let plan = initial;
  let random = seeded(plan.seed ?? 1);
  let faultsBefore = 0;
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  /** Open watch streams, each by the function that cuts it. */
  const openWatches = new Set<() => void>();

  const forward = (req: IncomingMessage, res: ServerResponse, watch: boolean, loseReply: boolean): void => {
    counts.forwarded++;
    const headers = { ...req.headers, host: upstream.host };
    const out = httpsRequest(
      { agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        if (loseReply) {
          // The API server did the work; the client never learns it.
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Node holds headers back until the first body byte; a quiet watch must open at once.
        res.flushHeaders();
        answer.pipe(res);
        if (watch) {
          const cut = (): void => {
            counts.watchCuts++;
            answer.destroy();
            req.socket.destroy();
          };
          openWatches.add(cut);
          res.on('close', () => openWatches.delete(cut));
        }
        if (watch && plan.cutWatchesEveryMs) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (res.writableEnded) return;
            counts.watchCuts++;
            answer.destroy();
            req.socket.destroy();
          }, plan.cutWatchesEveryMs);
          timers.add(timer);
          res.on('close', () => {
            clearTimeout(timer);
            timers.delete(timer);
            answer.destroy();
          });
        }
      },
    );
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  };

  const server = createHttpsServer({ cert, key }, (req, res) => {
    counts.requests++;
    seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] });
    const watch = isWatch(req.url ?? '');
    if (watch) counts.watches++;
    const faults = counts.status500 + counts.status429 + counts.resets + counts.lostReplies - faultsBefore;
    const eligible =
      (plan.only?.(req.method ?? '', req.url ?? '') ?? true) &&
      faults < (plan.maxFaults ?? Number.POSITIVE_INFINITY);
    const draw = eligible ? random() : 1;
    const p500 = plan.status500 ?? 0;
    const p429 = p500 + (plan.status429 ?? 0);
    const pReset = p429 + (plan.reset ?? 0);
    const pLost = pReset + (watch ? 0 : (plan.lostReply ?? 0));
    if (draw < p500) {
      counts.status500++;
      req.resume();
      status(res, 500, 'InternalError');
    } else if (draw < p429) {
      counts.status429++;
      req.resume();
      status(res, 429, 'TooManyRequests', { 'retry-after': String(plan.retryAfterSeconds ?? 1) });
    } else if (draw < pReset) {
      counts.resets++;
      req.socket.destroy();
    } else if (draw < pLost) {
      counts.lostReplies++;
      forward(req, res, false, true);
    } else {
      forward(req, res, watch, false);
    }
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Destroyed sockets make TLS client errors on the server side; they are the point, not a bug.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    counts,
    seen,
    kubeConfig(namespace: string): KubeConfig {
      const user = admin.getCurrentUser();
      if (!user) throw new Error('the admin kubeconfig has no current user');
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          { name: 'proxy', server: url, caData: Buffer.from(cert).toString('base64'), skipTLSVerify: false },
        ],
        users: [user],
        contexts: [{ name: 'local', cluster: 'proxy', user: user.name, namespace }],
        currentContext: 'local',
      });
      return kc;
    },
    setFaults(next: FaultPlan): void {
      plan = next;
      random = seeded(next.seed ?? 1);
      faultsBefore = counts.status500 + counts.status429 + counts.resets + counts.lostReplies;
    },
    cutWatches(): number {
      const open = [...openWatches];
      openWatches.clear();
      for (const cut of open) cut();
      return open.length;
    },
    async close(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
