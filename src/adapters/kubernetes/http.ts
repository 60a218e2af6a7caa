// A thin JSON request layer over client-node's authentication and HTTP library. We send our own
// bodies rather than going through the generated models because the models silently drop
// fields they do not know (a typo in a manifest would vanish instead of being rejected by the
// server) and re-shape dates; and one layer gives every call the same retries, errors and count.
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  RequestContext,
} from '@kubernetes/client-node';
import type { Operation } from './errors.ts';
import { createRetrier, type Retrier, type RetryOptions } from './retry.ts';

interface Request {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, e.g. /apis/apps/v1/namespaces/shop/statefulsets/db. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** Defaults to application/json; patches must say which kind they are. */
  readonly contentType?: string;
}

export interface Api {
  readonly kubeConfig: KubeConfig;
  /** The API server URL of the current context, for error messages. */
  readonly server: string;
  readonly retrier: Retrier;
  /** Requests sent so far, retries included (watches are counted by the watcher). */
  readonly requests: number;
  /** Sends one request under the retry policy; returns the parsed JSON body. */
  request<T>(operation: Operation, request: Request, signal?: AbortSignal): Promise<T>;
  /**
   * Lists in pages of LIST_PAGE items (or createApi's `listPage`) (each page a request under the retry policy), handing each
   * item to `each` so no page outlives its turn; returns the list's resourceVersion.
   */
  list<T>(
    operation: Operation,
    request: ListRequest,
    each: (item: T) => void,
    signal?: AbortSignal,
  ): Promise<string>;
  /** Counts a request made outside `request` (a watch). */
  countRequest(): void;
  /**
   * Sends one request as it is (no retries, any status): a measurement through a proxy
   * subresource. The body is kept up to `maxBytes` characters.
   */
  raw(request: RawRequest, signal: AbortSignal): Promise<{ status: number; body: string }>;
}

interface ListRequest {
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
}

/**
 * Items per page of a list. One body of 1000 pods (4 MB of JSON) read, held as text and parsed
 * at once made the heap grow by about 20 MB a list; a page of 250 costs a quarter of that.
 */
const LIST_PAGE = 250;

interface ListPage<T> {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items?: readonly T[];
}

interface RawRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxBytes: number;
}

function methodOf(method: Request['method'] | 'HEAD'): HttpMethod {
  return HttpMethod[method];
}

/** A JSON request to `server`: its query in the URL, its body as JSON (unauthenticated yet). */
function jsonContext(server: string, request: Request): RequestContext {
  const url = new URL(server.replace(/\/+$/, '') + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  const context = new RequestContext(url.toString(), methodOf(request.method));
  context.setHeaderParam('Accept', 'application/json');
  if (request.body !== undefined) {
    context.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
    context.setBody(JSON.stringify(request.body));
  }
  return context;
}

export function createApi(
  kubeConfig: KubeConfig,
  retryOptions: RetryOptions = {},
  listPage = LIST_PAGE,
): Api {
  const server = kubeConfig.getCurrentCluster()?.server ?? '';
  const retrier = createRetrier({ ...retryOptions, server });
  const http = new IsomorphicFetchHttpLibrary();
  let requests = 0;
  // client-node builds a new connection pool per request; keeping the first one lets
  // requests reuse kept-alive connections instead of a TLS handshake each.
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;

  /** Authenticates, sends on the kept connection pool and reads the body; counts the request. */
  async function send(context: RequestContext, signal: AbortSignal | undefined) {
    if (signal) context.setSignal(signal);
    await kubeConfig.applySecurityAuthentication(context);
    if (dispatcher === undefined) dispatcher = context.getDispatcher();
    else context.setDispatcher(dispatcher);
    requests++;
    const response = await http.send(context).toPromise();
    return { response, text: await response.body.text() };
  }

  async function once<T>(request: Request, signal: AbortSignal | undefined): Promise<T> {
    const { response, text } = await send(jsonContext(server, request), signal);
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      // Only the response goes into the exception: request headers carry credentials.
      throw new ApiException(response.httpStatusCode, '', text, response.headers);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async function raw(request: RawRequest, signal: AbortSignal): Promise<{ status: number; body: string }> {
    const context = new RequestContext(server.replace(/\/+$/, '') + request.path, methodOf(request.method));
    for (const [name, value] of Object.entries(request.headers)) context.setHeaderParam(name, value);
    const { response, text } = await send(context, signal);
    return { status: response.httpStatusCode, body: text.slice(0, request.maxBytes) };
  }

  return {
    raw,
    kubeConfig,
    server,
    retrier,
    get requests() {
      return requests;
    },
    countRequest() {
      requests++;
    },
    request<T>(operation: Operation, request: Request, signal?: AbortSignal): Promise<T> {
      return retrier.run(operation, () => once<T>(request, signal), signal);
    },
    async list<T>(operation: Operation, request: ListRequest, each: (item: T) => void, signal?: AbortSignal) {
      let resourceVersion = '';
      let next: string | undefined;
      do {
        const query = { ...request.query, limit: listPage, continue: next };
        const page = await retrier.run(
          operation,
          () => once<ListPage<T>>({ method: 'GET', path: request.path, query }, signal),
          signal,
        );
        for (const item of page.items ?? []) each(item);
        // Every page comes from the snapshot of the first: the same resourceVersion.
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        next = page.metadata?.continue || undefined;
      } while (next !== undefined);
      return resourceVersion;
    },
  };
}
