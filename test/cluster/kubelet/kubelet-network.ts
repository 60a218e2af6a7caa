// The local cluster's pod network, served by the kubelet stand-in. Pod IPs (10.244.x.y) are not
// routable here, and kube-apiserver would refuse to proxy to loopback ones, so the API server is
// started with an egress selector (`cluster` network context, HTTPConnect over a unix socket; see
// control-plane.ts): every connection it opens to a pod (the pods/proxy subresource) or to the
// kubelet (logs, exec) arrives here as `CONNECT host:port`.
// - CONNECT <pod IP>:<port>, the pod serving and one of its containers declaring the port:
//   200, then the tunnel carries HTTP to the pod's simulated app (kubelet-http.ts), in-process;
// - CONNECT 127.0.0.1|localhost|[::1]:<port>: a plain TCP tunnel to that loopback address (the
//   real nodes' kubelets listen there);
// - CONNECT <IP in a real node's pod CIDR>:<port>: a plain TCP tunnel to that pod (test/cluster/node);
// - anything else: 503 (the API server reports it like a refused dial).
// A loopback TCP port serves the same apps directly (/pods/<namespace>/<pod>/<path>, as a
// self-hosted runner reaching pod IPs would), /metrics for Prometheus, and /counts/<ns>/<pod>:
// how many requests each pod's app served (through the proxy or directly).

import { rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BlockList, connect, createServer as createNetServer, type Socket } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { containerFor, metricsText, type PodEndpoint, servePod } from './kubelet-http.ts';
import { behaviourOf, type SimState } from './kubelet-status.ts';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1']);
const maxHeadBytes = 8192;

/** How many pod IPs there are: 10.244.0.2 to 10.244.255.251, 256 third octets of 250 hosts. */
export const POD_IPS = 256 * 250;

/** The `n`th pod IP (0 <= n < POD_IPS). */
export function podIpAt(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= POD_IPS)
    throw new RangeError(`pod IP number ${n} is outside 0..${POD_IPS - 1}`);
  return `10.244.${Math.floor(n / 250)}.${(n % 250) + 2}`;
}

export class PodNetwork {
  private readonly byUid = new Map<string, PodEndpoint>();
  private readonly byIp = new Map<string, PodEndpoint>();
  private readonly byName = new Map<string, PodEndpoint>();
  private readonly counts = new Map<string, number>();
  /** The pod and container each CONNECT tunnel leads to. */
  private readonly tunnels = new WeakMap<Socket, { uid: string; image: string }>();
  private readonly tunnelServer = createHttpServer((req, res) => this.onTunnelRequest(req, res));
  private readonly proxy = createNetServer((socket) => this.onProxyConnection(socket));
  private readonly direct = createHttpServer((req, res) => this.onDirectRequest(req, res));
  private socketPath = '';
  /** The real nodes' pod CIDRs: pods there are real, so their connections are plain tunnels. */
  private readonly realPods = new BlockList();

  /** Tunnels CONNECTs to IPs in `cidr` (e.g. 10.245.0.0/24) straight to them. */
  addRealPodCidr(cidr: string): void {
    const [network = '', prefix = ''] = cidr.split('/');
    this.realPods.addSubnet(network, Number(prefix), 'ipv4');
  }

  add(pod: PodEndpoint): void {
    this.remove(pod.uid);
    this.byUid.set(pod.uid, pod);
    this.byIp.set(pod.ip, pod);
    this.byName.set(`${pod.namespace}/${pod.name}`, pod);
  }

  /** The pod's containers stopped (deleted) or it is gone. */
  remove(uid: string): void {
    const pod = this.byUid.get(uid);
    if (!pod) return;
    this.byUid.delete(uid);
    if (this.byIp.get(pod.ip) === pod) this.byIp.delete(pod.ip);
    if (this.byName.get(`${pod.namespace}/${pod.name}`) === pod)
      this.byName.delete(`${pod.namespace}/${pod.name}`);
  }

  hasIp(ip: string): boolean {
    return this.byIp.has(ip);
  }

  /** Listens on the unix socket (CONNECT proxy) and 127.0.0.1:`port` (direct access, metrics). */
  async listen(socketPath: string, port: number): Promise<void> {
    this.socketPath = socketPath;
    rmSync(socketPath, { force: true }); // left by a stand-in that was killed
    await new Promise<void>((ok, fail) => this.proxy.once('error', fail).listen(socketPath, ok));
    await new Promise<void>((ok, fail) => this.direct.once('error', fail).listen(port, '127.0.0.1', ok));
  }

  /** Removes the socket file (on exit; the servers die with the process). */
  unlink(): void {
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }

  private count(pod: PodEndpoint): void {
    const key = `${pod.namespace}/${pod.name}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private onProxyConnection(socket: Socket): void {
    let head = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > maxHeadBytes) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      const [method = '', target = ''] = (
        head.subarray(0, end).toString('latin1').split('\r\n')[0] ?? ''
      ).split(' ');
      this.route(socket, method, target);
    };
    socket.on('data', onData);
  }

  private route(socket: Socket, method: string, target: string): void {
    const refuse = (status: string, why: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
    };
    const match = /^\[?([^\]]*)\]?:(\d{1,5})$/.exec(target);
    if (method !== 'CONNECT' || !match) {
      refuse('405 Method Not Allowed', 'only CONNECT host:port');
      return;
    }
    const host = match[1] ?? '';
    const port = Number(match[2]);
    if (loopbackHosts.has(host) || this.realPods.check(host, 'ipv4')) {
      this.tunnelToLoopback(socket, host, port, refuse);
      return;
    }
    const pod = this.byIp.get(host);
    const container = pod && containerFor(pod, port);
    const refused = !pod
      ? `no pod has IP ${host} on this node`
      : !container
        ? `pod ${pod.namespace}/${pod.name} declares no port ${port}`
        : pod.servingSince() === undefined
          ? `connection refused: pod ${pod.namespace}/${pod.name} is not running`
          : undefined;
    if (refused !== undefined || !pod || !container) {
      refuse('503 Service Unavailable', refused ?? '');
      return;
    }
    socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
    this.tunnels.set(socket, { uid: pod.uid, image: container.image });
    this.tunnelServer.emit('connection', socket);
    socket.resume();
  }

  private tunnelToLoopback(
    socket: Socket,
    host: string,
    port: number,
    refuse: (status: string, why: string) => void,
  ): void {
    const upstream = connect({ host, port });
    let connected = false;
    upstream.once('error', (error) => {
      if (connected) socket.destroy();
      else refuse('503 Service Unavailable', `dial ${host}:${port}: ${error.message}`);
    });
    upstream.once('connect', () => {
      connected = true;
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      socket.pipe(upstream).on('error', () => upstream.destroy());
      upstream.pipe(socket);
      socket.on('close', () => upstream.destroy());
      socket.resume();
    });
  }

  private onTunnelRequest(req: IncomingMessage, res: ServerResponse): void {
    const tunnel = this.tunnels.get(req.socket);
    const pod = tunnel && this.byUid.get(tunnel.uid);
    // The pod stopped while the API server kept the connection: as a dead pod, reset it.
    if (!tunnel || !pod || pod.servingSince() === undefined) {
      req.socket.destroy();
      return;
    }
    this.count(pod);
    servePod(pod, tunnel.image, req.url ?? '/', req, res);
  }

  private onDirectRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const podPath = /^\/pods\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url);
    if (podPath) {
      const [, namespace = '', name = '', path = '/'] = podPath;
      const pod = this.byName.get(`${namespace}/${name}`);
      const container = pod && containerFor(pod);
      if (pod && container && pod.servingSince() !== undefined) {
        this.count(pod);
        servePod(pod, container.image, path, req, res);
        return;
      }
    }
    const { status, type, body } = this.directAnswer(url);
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  }

  /** The loopback port's answers other than a serving pod's. */
  private directAnswer(url: string): { status: number; type: string; body: string } {
    const json = (body: unknown) => ({
      status: 200,
      type: 'application/json',
      body: `${JSON.stringify(body)}\n`,
    });
    const podPath = /^\/pods\/([^/]+)\/([^/]+)/.exec(url);
    if (podPath)
      return {
        status: 502,
        type: 'text/plain',
        body: `no running pod ${podPath[1]}/${podPath[2]} on this node\n`,
      };
    if (url === '/metrics') {
      const body = metricsText(this.byUid.values(), Date.now());
      return { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body };
    }
    const counts = /^\/counts\/([^/]+)\/([^/?]+)$/.exec(url);
    if (counts) {
      const [, namespace = '', pod = ''] = counts;
      return json({ namespace, pod, count: this.counts.get(`${namespace}/${pod}`) ?? 0 });
    }
    if (url === '/counts') return json(Object.fromEntries(this.counts));
    if (url === '/healthz') return { status: 200, type: 'text/plain', body: 'ok\n' };
    const help = 'try /pods/<namespace>/<pod>/<path>, /metrics or /counts/<namespace>/<pod>';
    return { status: 404, type: 'text/plain', body: `not found: ${help}\n` };
  }
}

/** What the stand-in tracks of a pod that the pod network needs. */
export interface ServingPod {
  sim: SimState;
  /** When its containers started (ms), once they did. */
  startedMs?: number;
}

/** The pod's endpoint: serving while its containers run (not crash-looping, not mid-restart). */
export function endpointOf(pod: V1Pod, t: ServingPod): PodEndpoint {
  const containers = (pod.spec?.containers ?? []).map((c) => ({
    image: c.image ?? '',
    ports: (c.ports ?? []).map((p) => p.containerPort),
  }));
  const behaviours = new Set(containers.map((c) => behaviourOf(c.image)));
  const neverServes = behaviours.has('crashloop') || behaviours.has('badpull');
  const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'StatefulSet');
  return {
    uid: t.sim.uid,
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ip: t.sim.podIP,
    statefulset: owner?.name ?? '',
    revision: pod.metadata?.labels?.['controller-revision-hash'] ?? '',
    containers,
    servingSince: () => (t.sim.started && !neverServes && t.sim.flaky !== 'down' ? t.startedMs : undefined),
  };
}
