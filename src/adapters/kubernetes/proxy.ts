// Requests to a pod through the API server's pod proxy (pods/proxy), and the access review
// that tells, before anything changes, whether this run may use it.

import type { ProxyRequest } from '../../ports/cluster.ts';
import { type HttpResponse, HttpUnreachable, MAX_BODY_BYTES } from '../../ports/http.ts';
import { unreachableText } from '../http.ts';
import { statusMessage } from './errors.ts';
import type { Api } from './http.ts';

/** A pod proxy request that the API server refused for lack of RBAC (pods/proxy get). */
class ProxyForbidden extends Error {
  override readonly name = 'ProxyForbidden';
}

/**
 * One request to `pod`:`port` at `path` through `/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`.
 * Answers whatever status the pod (or the proxy, when it cannot reach the pod) gave; throws
 * ProxyForbidden when RBAC refuses, HttpUnreachable when no answer came in time.
 */
export async function proxyPod(
  api: Api,
  namespace: string,
  pod: string,
  port: number,
  request: ProxyRequest,
): Promise<HttpResponse> {
  const path =
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${port}/proxy` +
    request.path;
  const signal = AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]);
  let answer: { status: number; body: string };
  try {
    answer = await api.raw(
      { method: request.method, path, headers: request.headers, maxBytes: MAX_BODY_BYTES },
      signal,
    );
  } catch (error) {
    throw new HttpUnreachable(unreachableText(error, request));
  }
  if (answer.status === 403 && /cannot \w+ resource "pods\/proxy"/.test(answer.body)) {
    throw new ProxyForbidden(
      `the API server refused the pod proxy: ${statusMessage(answer.body)}. HTTP checks with port and path go ` +
        'through the pod proxy, which needs get (create for a POST check) on pods/proxy in the namespace: add the opt-in rule from the RBAC table in ' +
        'docs/permissions.md (or use the url form of the check from a runner that reaches the pods)',
    );
  }
  return answer;
}

/** Whether this run's credentials may do `verb` on `resource` (e.g. pods/proxy) in `namespace`. */
export async function canI(api: Api, namespace: string, verb: string, resource: string): Promise<boolean> {
  // `pods/exec`: a subresource; `jobs.batch`: a resource of an API group.
  const [qualified = '', subresource] = resource.split('/');
  const [main, ...group] = qualified.split('.');
  const review = await api.request<{ status?: { allowed?: boolean } }>(
    { verb: 'create', kind: 'SelfSubjectAccessReview', namespace, name: '' },
    {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: { namespace, verb, group: group.join('.'), resource: main, subresource },
        },
      },
    },
  );
  return review.status?.allowed === true;
}
