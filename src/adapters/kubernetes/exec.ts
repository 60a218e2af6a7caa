// One command in a pod's container through the API server's `pods/exec` subresource
// (client-node's Exec over a WebSocket): stdout and stderr kept up to MAX_EXEC_OUTPUT bytes each
// with the run's secrets masked, the exit code from the Status the API server sends last.
// RBAC: `get` and `create` on `pods/exec`: the WebSocket upgrade is a GET, authorized as get,
// and kube-apiserver 1.35+ checks create too (AuthorizePodWebsocketUpgradeCreatePermission,
// beta and on by default; kubernetes issue 133515).
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { maskSecrets } from '../../engine/crash-log.ts';
import {
  ExecForbidden,
  type ExecRequest,
  type ExecResult,
  ExecUnreachable,
  MAX_EXEC_OUTPUT,
} from '../../ports/exec.ts';
import { statusMessage } from './errors.ts';
import type { Api } from './http.ts';

/** How much of a refused handshake's body is read for its message. */
const REFUSAL_BYTES = 4096;

/** Keeps the first `limit` bytes written and counts the rest. */
class BoundedSink extends Writable {
  private readonly chunks: Buffer[] = [];
  private readonly limit: number;
  private kept = 0;
  dropped = 0;

  constructor(limit: number) {
    super();
    this.limit = limit;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const room = this.limit - this.kept;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(0, room));
    done();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** UTF-8 text of `bytes`, without a character cut at the end. */
function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes, { stream: true });
}

/**
 * Where to cut `raw` (a prefix of the output) near MAX_EXEC_OUTPUT so that no secret is cut in
 * two: past a secret that crosses the limit and ends within `raw` (the sink keeps as many bytes
 * more as the longest secret), before one that does not end within it.
 */
function cutAt(raw: Buffer, secrets: readonly string[]): number {
  const values = secrets.filter((s) => s.trim().length >= 4).map((s) => Buffer.from(s));
  let cut = MAX_EXEC_OUTPUT;
  // Each pass moves the cut past one more crossing secret; a secret has at least 4 bytes.
  for (let pass = 0; pass <= values.length * 4; pass++) {
    const crossing = values
      .map((value) => ({ value, at: raw.indexOf(value, Math.max(0, cut - value.length + 1)) }))
      .find(({ value, at }) => at >= 0 && at < cut && at + value.length > cut);
    if (crossing === undefined) return cut;
    const end = crossing.at + crossing.value.length;
    if (end > raw.length) return crossing.at;
    cut = end;
  }
  return cut;
}

/**
 * What is kept of a stream (`raw`, the sink's bytes, `dropped` more were not kept): its text,
 * secrets masked, at most MAX_EXEC_OUTPUT bytes, and whether any was cut. All of it is masked
 * when the sink kept all of it; else it is cut first (cutAt) so no secret is cut in two.
 */
export function execOutput(
  raw: Buffer,
  dropped: number,
  secrets: readonly string[],
): { text: string; cut: boolean } {
  const kept = dropped > 0 ? raw.subarray(0, cutAt(raw, secrets)) : raw;
  const masked = Buffer.from(maskSecrets(decode(kept), secrets));
  const cut = dropped > 0 || masked.length > MAX_EXEC_OUTPUT;
  return { text: decode(masked.subarray(0, MAX_EXEC_OUTPUT)), cut };
}

/** Exit code and error from the Status the API server sends when the command has ended. */
function ending(status: V1Status): Pick<ExecResult, 'exitCode' | 'error'> {
  if (status.status === 'Success') return { exitCode: 0, error: undefined };
  if (status.reason === 'NonZeroExitCode') {
    const code = Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
    if (Number.isInteger(code)) return { exitCode: code, error: undefined };
  }
  return { exitCode: undefined, error: status.message || `the exec ended with status ${status.status}` };
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

interface Refusal {
  readonly status: number;
  readonly body: string;
}

/** The handshake's refusal: 403 is RBAC, anything else (pod not found, not running) is the server's words. */
function refusedError(refusal: Refusal, request: ExecRequest, what: string): Error {
  // The create check of 1.35+ gives no reason: `pods "db-0" is forbidden: `.
  const says = statusMessage(refusal.body).replace(/[:\s]+$/, '');
  if (refusal.status === 403) {
    return new ExecForbidden(
      `${what} was refused (403): ${says}. It needs get and create on pods/exec in namespace ` +
        `${request.namespace} (an exec over a WebSocket is a GET, and since Kubernetes 1.35 the API ` +
        'server checks create as well): add the opt-in exec rule from examples/rbac.yaml (docs/permissions.md)',
    );
  }
  return new ExecUnreachable(`${what} failed (${refusal.status}): ${says}`);
}

const CLOSE_CHANNEL = 255;

/** Stream protocols, newest first, as client-node offers them (v5 adds CLOSE frames). */
const protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io'];

interface Connector {
  /** What Exec calls: opens the WebSocket, passes each binary frame on as (channel, data). */
  connect(
    path: string,
    textHandler: ((text: string) => boolean) | null,
    binaryHandler: ((stream: number, buff: Buffer) => boolean) | null,
  ): Promise<WebSocket>;
  socket: WebSocket | undefined;
  /** The API server refused the upgrade: its status and Status body. */
  refusal: Refusal | undefined;
}

/**
 * Exec's connection, in place of client-node's WebSocketHandler: that one drops a refused
 * handshake's body (the API server's words: pod not found, not running, forbidden), and ends the
 * process's own stdout on a CLOSE frame; this one reads the body and ends nothing.
 */
function connector(kubeConfig: KubeConfig): Connector {
  const connection: Connector = {
    socket: undefined,
    refusal: undefined,
    async connect(path, _textHandler, binaryHandler) {
      const server = kubeConfig.getCurrentCluster()?.server ?? '';
      const options: WebSocket.ClientOptions = {};
      await kubeConfig.applyToHTTPSOptions(options);
      const ws = new WebSocket(server.replace(/^http/, 'ws').replace(/\/+$/, '') + path, protocols, options);
      connection.socket = ws;
      ws.on('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < REFUSAL_BYTES) body += chunk;
        });
        // Ends the handshake, which emits 'error' and so rejects below.
        response.on('close', () => {
          connection.refusal = { status: response.statusCode ?? 0, body: body.slice(0, REFUSAL_BYTES) };
          ws.terminate();
        });
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const channel = data.length > 0 ? data.readUint8(0) : CLOSE_CHANNEL;
        // A CLOSE frame (v5) needs nothing here: the Status frame ends the exec.
        if (!isBinary || channel === CLOSE_CHANNEL || binaryHandler === null) return;
        if (!binaryHandler(channel, data.subarray(1))) ws.close();
      });
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        // Kept for the socket's life: an error after the open ends in 'close', which exec awaits.
        ws.on('error', reject);
      });
    },
  };
  return connection;
}

/** Runs `request.command` in its container and answers how it ended (see PodExec.exec). */
export async function execInPod(
  api: Api,
  request: ExecRequest,
  secrets: readonly string[],
): Promise<ExecResult> {
  const { namespace, pod, container, command } = request;
  const shown = JSON.stringify(maskSecrets(command.join(' '), secrets));
  const what = `exec of ${shown} in pod ${namespace}/${pod} (container ${container})`;
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([request.signal, timeout]);
  const spare = Math.max(0, ...secrets.map((s) => Buffer.byteLength(s)));
  const stdout = new BoundedSink(MAX_EXEC_OUTPUT + spare);
  const stderr = new BoundedSink(MAX_EXEC_OUTPUT + spare);
  const connection = connector(api.kubeConfig);
  const exec = new Exec(api.kubeConfig, connection);
  api.countRequest();
  let onAbort = (): void => {};
  try {
    const status = await new Promise<V1Status>((resolve, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      exec
        .exec(namespace, pod, container, [...command], stdout, stderr, null, false, resolve)
        .then(
          (ws) =>
            ws.on('close', () => reject(new Error('the connection closed before the exit status came'))),
          reject,
        );
    });
    const out = execOutput(stdout.bytes(), stdout.dropped, secrets);
    const err = execOutput(stderr.bytes(), stderr.dropped, secrets);
    const ended = ending(status);
    return {
      ...ended,
      error: ended.error === undefined ? undefined : maskSecrets(ended.error, secrets),
      stdout: out.text,
      stderr: err.text,
      truncated: out.cut || err.cut,
    };
  } catch (error) {
    if (timeout.aborted)
      throw new ExecUnreachable(`${what} did not finish within ${seconds(request.timeoutMs)}`);
    if (request.signal.aborted) throw new ExecUnreachable(`${what} was cancelled`);
    if (connection.refusal) throw refusedError(connection.refusal, request, what);
    const detail = error instanceof Error ? error.message : String((error as { message?: unknown })?.message);
    throw new ExecUnreachable(`${what} failed: ${detail}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
    connection.socket?.terminate();
  }
}
