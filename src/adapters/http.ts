// The HTTP port over Node's fetch: one request, a timeout, a bounded body.
import {
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
  HttpUnreachable,
  MAX_BODY_BYTES,
} from '../ports/http.ts';

export const fetchHttp: HttpClient = {
  async request(request: HttpRequest): Promise<HttpResponse> {
    const signal = AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]);
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      throw new HttpUnreachable(unreachableText(error, request));
    }
    try {
      return { status: response.status, body: await boundedText(response) };
    } catch (error) {
      throw new HttpUnreachable(unreachableText(error, request));
    }
  },
};

/** Reads at most MAX_BODY_BYTES of a body, then cancels the rest. */
async function boundedText(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_BODY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

/** Why a request got no answer: cancelled, timed out, or the network's own code. */
export function unreachableText(error: unknown, request: Pick<HttpRequest, 'signal' | 'timeoutMs'>): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return request.signal.aborted ? 'cancelled' : `no answer within ${request.timeoutMs} ms`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
