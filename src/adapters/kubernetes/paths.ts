// REST paths of the resources the adapter uses, and discovery for the arbitrary objects a
// manifest may hold (ConfigMaps, Services, custom resources) so they can be applied too.
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { KubeError } from './errors.ts';
import type { Api } from './http.ts';

const enc = encodeURIComponent;

export function statefulSetsPath(namespace: string): string {
  return `/apis/apps/v1/namespaces/${enc(namespace)}/statefulsets`;
}

export function statefulSetPath(ref: StatefulSetRef): string {
  return `${statefulSetsPath(ref.namespace)}/${enc(ref.name)}`;
}

export function podsPath(namespace: string): string {
  return `/api/v1/namespaces/${enc(namespace)}/pods`;
}

export function controllerRevisionsPath(namespace: string): string {
  return `/apis/apps/v1/namespaces/${enc(namespace)}/controllerrevisions`;
}

export function leasesPath(namespace: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases`;
}

interface ApiResource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface ResourceInfo {
  /** Collection path, e.g. /api/v1/namespaces/shop/configmaps. */
  readonly collection: string;
  readonly namespaced: boolean;
}

/** Maps apiVersion+kind to REST paths through discovery, one request per group version. */
export function createDiscovery(
  api: Api,
): (apiVersion: string, kind: string, namespace: string) => Promise<ResourceInfo> {
  const cache = new Map<string, Promise<readonly ApiResource[]>>();
  const groupPath = (apiVersion: string): string =>
    apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;

  function resources(apiVersion: string): Promise<readonly ApiResource[]> {
    let found = cache.get(apiVersion);
    if (!found) {
      found = api
        .request<{ resources?: ApiResource[] }>(
          { verb: 'get', kind: `API discovery for ${apiVersion}` },
          { method: 'GET', path: groupPath(apiVersion) },
        )
        .then((list) => (list.resources ?? []).filter((r) => !r.name.includes('/')));
      // A failed lookup is not cached: the next apply asks again.
      found.catch(() => cache.delete(apiVersion));
      cache.set(apiVersion, found);
    }
    return found;
  }

  return async (apiVersion, kind, namespace) => {
    let list: readonly ApiResource[];
    try {
      list = await resources(apiVersion);
    } catch (error) {
      if (error instanceof KubeError && error.status === 404) list = [];
      else throw error;
    }
    const resource = list.find((r) => r.kind === kind);
    if (!resource) {
      throw new KubeError(
        `The cluster does not serve kind ${kind} in apiVersion ${apiVersion}: check the manifest's apiVersion ` +
          'and kind (and that its CustomResourceDefinition is installed).',
        { status: 404, reason: 'NotFound', operation: { verb: 'apply', kind } },
      );
    }
    const base = groupPath(apiVersion);
    return {
      collection: resource.namespaced
        ? `${base}/namespaces/${enc(namespace)}/${resource.name}`
        : `${base}/${resource.name}`,
      namespaced: resource.namespaced,
    };
  };
}
