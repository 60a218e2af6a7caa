// Turns failures of Kubernetes calls into one typed error whose message says which object,
// what failed and what to do. Request headers (and so tokens) never reach these messages:
// only the API server's Status body and our own description of the request do.
import { ApiException } from '@kubernetes/client-node';

/** What we were doing when a call failed; every message names it. */
export interface Operation {
  /** Kubernetes verb: get, list, watch, create, update, patch, apply, delete. */
  readonly verb: string;
  /** Kind or resource, e.g. StatefulSet, pods, Lease. */
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
}

export class KubeError extends Error {
  override readonly name = 'KubeError';
  /** HTTP status; 0 when the API server was never reached. */
  readonly status: number;
  /** Status reason (NotFound, Forbidden, Invalid, Conflict, ...) or a network error code. */
  readonly reason: string;
  readonly verb: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly objectName: string | undefined;
  /** Retry-After from the response, in milliseconds, when the server sent one. */
  readonly retryAfterMs: number | undefined;
  /** The API server's own words (its Status message and causes), without our advice; else the message. */
  readonly serverSays: string;

  constructor(
    message: string,
    fields: {
      status: number;
      reason: string;
      operation: Operation;
      retryAfterMs?: number | undefined;
      serverSays?: string;
    },
  ) {
    super(message);
    this.status = fields.status;
    this.reason = fields.reason;
    this.verb = fields.operation.verb;
    this.kind = fields.operation.kind;
    this.namespace = fields.operation.namespace;
    this.objectName = fields.operation.name;
    this.retryAfterMs = fields.retryAfterMs;
    this.serverSays = fields.serverSays ?? message;
  }
}

/** The parts of a metav1.Status we use. */
interface KubeStatus {
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes?: readonly { readonly field?: string; readonly message?: string }[] };
}

/** ApiException.body is the raw response text in client-node 2; parse it when it is a Status. */
function parseStatus(body: unknown): KubeStatus | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (value !== null && typeof value === 'object' && 'kind' in value && value.kind === 'Status') {
    return value as KubeStatus;
  }
  return undefined;
}

/** "StatefulSet shop/db", "pods in shop", "Lease shop/statefulset-canary-db". */
function describeObject(op: Operation): string {
  if (op.name !== undefined) return `${op.kind} ${op.namespace ? `${op.namespace}/` : ''}${op.name}`;
  return op.namespace ? `${op.kind} in namespace ${op.namespace}` : op.kind;
}

const defaultReasons: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Gone',
  422: 'Invalid',
  429: 'TooManyRequests',
};

function advice(status: number, op: Operation): string {
  switch (status) {
    case 401:
      return 'The credentials in the kubeconfig were rejected: refresh the token or client certificate.';
    case 403:
      return (
        `The identity in the kubeconfig may not ${op.verb} ${op.kind}` +
        `${op.namespace ? ` in namespace ${op.namespace}` : ''}: add that verb and resource to its Role ` +
        '(docs/permissions.md, "Permissions in the cluster (RBAC)", has the exact Role the action needs).'
      );
    case 404:
      return 'Check the name and the namespace.';
    case 409:
      return 'Someone else changed or created it at the same time; rerun to retry with the current state.';
    case 422:
    case 400:
      return op.verb.startsWith('apply')
        ? 'The API server rejected the object as invalid: fix the manifest.'
        : 'The API server rejected the request as invalid: please report this as a bug in statefulset-canary.';
    case 429:
      return 'The API server is rate limiting; retries were exhausted, try again later.';
    default:
      return status >= 500
        ? 'The API server failed; retries were exhausted. Check the control plane and rerun.'
        : '';
  }
}

function retryAfterMs(headers: unknown): number | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const raw = (headers as Record<string, unknown>)['retry-after'];
  if (typeof raw !== 'string') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Network error code of a failed fetch (undici wraps it in `cause`), e.g. ECONNREFUSED. */
function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function fromApiException(error: ApiException<unknown>, op: Operation): KubeError {
  const status = parseStatus(error.body);
  const code = error.code;
  const causes = (status?.details?.causes ?? [])
    .map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? '')))
    .filter((c) => c !== '' && !(status?.message ?? '').includes(c));
  const serverSays = [status?.message ?? `HTTP ${code}`, ...causes].join('; ');
  // Server-side apply reports a field the schema does not know as a 500 ("failed to create
  // typed patch object"); it is the manifest's fault, so it must read (and not retry) as Invalid.
  const schemaError = code === 500 && /failed to create typed patch object/.test(serverSays);
  const advised = advice(schemaError ? 422 : code, op);
  const message = `${op.verb} ${describeObject(op)} failed (${code}): ${serverSays}. ${advised}`.trim();
  return new KubeError(message, {
    status: code,
    reason: schemaError
      ? 'Invalid'
      : status?.reason || defaultReasons[code] || (code >= 500 ? 'InternalError' : 'Unknown'),
    operation: op,
    retryAfterMs: retryAfterMs(error.headers),
    serverSays,
  });
}

/** Wraps any failure of a call into a KubeError naming the operation; KubeErrors pass through. */
export function toKubeError(error: unknown, op: Operation, server?: string): KubeError {
  if (error instanceof KubeError) return error;
  if (error instanceof ApiException) return fromApiException(error, op);
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number') {
    return fromApiException(new ApiException(statusCode, '', '', {}), op);
  }
  const code = networkCode(error) ?? (error instanceof Error ? error.name : 'Error');
  const detail = error instanceof Error ? error.message : String(error);
  const where = server ? ` at ${server}` : '';
  if (/CERT|SSL|TLS|ALTNAME/.test(code)) {
    return new KubeError(
      `${op.verb} ${describeObject(op)} failed: the API server${where} presented a certificate this runner ` +
        `does not trust (${code}: ${detail}). Check certificate-authority-data and the server name in the kubeconfig.`,
      { status: 0, reason: code, operation: op },
    );
  }
  return new KubeError(
    `${op.verb} ${describeObject(op)} failed: cannot reach the Kubernetes API server${where} (${code}: ${detail}). ` +
      'Check that the kubeconfig (input `kubeconfig`, KUBECONFIG or ~/.kube/config) points at a running ' +
      'cluster reachable from this runner, and the context is the one you mean.',
    { status: 0, reason: code, operation: op },
  );
}

/** The message of a metav1.Status body, else the body's start. */
export function statusMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
