// The HTTP port: one request and its answer, for analysis checks (a URL a self-hosted runner
// reaches, a Prometheus server). The implementation is src/adapters/http.ts (fetch).

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A POST's body (a hook's JSON event); checks send none. */
  readonly body?: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  /** The body as text, cut at MAX_BODY_BYTES. */
  readonly body: string;
}

/** Bodies are read up to this many bytes: a check reads a status or a small JSON document. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A request that got no answer: refused, timed out, reset. Not a measured value. */
export class HttpUnreachable extends Error {
  override readonly name = 'HttpUnreachable';
}

export interface HttpClient {
  /** Sends one request (no retries); throws HttpUnreachable when no answer came. */
  request(request: HttpRequest): Promise<HttpResponse>;
}
