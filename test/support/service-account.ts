// A ServiceAccount bound to exactly a Role (as the examples ship it), with a token minted by the
// TokenRequest API and a kubeconfig that reaches the cluster through the recording fault proxy,
// so a test sees every request the action makes with it; and changes to that Role that wait
// until the authorizer applies them (RBAC changes reach it a little later); and the RBAC pairs a
// recorded request needs and a Role grants, to compare the two.
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1ResourceAttributes,
  type V1Role,
  type V1RoleBinding,
} from '@kubernetes/client-node';
import { adminKubeConfig, type TestNamespace, waitFor } from '../cluster/harness.ts';
import { type FaultProxy, type SeenRequest, startFaultProxy } from './faults/proxy.ts';

export interface BoundServiceAccount {
  /** The account's credentials, through `proxy`. */
  readonly kubeConfig: KubeConfig;
  readonly proxy: FaultProxy;
  /**
   * Replaces the Role's rules (`undefined`: the rules it was created with); with `until`, waits
   * until the authorizer answers those attributes as `allowed` says.
   */
  setRules(
    rules: V1Role['rules'] | undefined,
    until?: { readonly attributes: V1ResourceAttributes; readonly allowed: boolean },
  ): Promise<void>;
  close(): Promise<void>;
}

export async function bindServiceAccount(
  ns: TestNamespace,
  name: string,
  role: V1Role,
  binding: V1RoleBinding,
): Promise<BoundServiceAccount> {
  const admin = await adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const namespaced = (rules: V1Role['rules']): V1Role => ({
    ...role,
    metadata: { ...role.metadata, namespace: ns.name },
    rules,
  });
  await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace: ns.name, body: namespaced(role.rules) });
  await rbac.createNamespacedRoleBinding({
    namespace: ns.name,
    body: { ...binding, subjects: binding.subjects?.map((s) => ({ ...s, namespace: ns.name })) },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name,
    namespace: ns.name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const proxy = await startFaultProxy(admin);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: proxy.kubeConfig(ns.name).clusters,
    users: [{ name, token: token.status?.token }],
    contexts: [{ name: 'local', cluster: 'proxy', user: name, namespace: ns.name }],
    currentContext: 'local',
  });
  const review = kubeConfig.makeApiClient(AuthorizationV1Api);
  return {
    kubeConfig,
    proxy,
    async setRules(rules, until) {
      await rbac.replaceNamespacedRole({
        name: role.metadata?.name ?? '',
        namespace: ns.name,
        body: namespaced(rules ?? role.rules),
      });
      if (until === undefined) return;
      const attributes = { namespace: ns.name, ...until.attributes };
      await waitFor(
        async () =>
          (await review.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } }))
            .status?.allowed === until.allowed,
        10_000,
        `the Role change to reach the authorizer (${JSON.stringify(attributes)} ${until.allowed ? 'allowed' : 'refused'})`,
      );
    },
    close: () => proxy.close(),
  };
}

/** The RBAC (resource, verb) pairs a request needs, as "group/resource verb" ("/pods/log get"); none for discovery. */
export function permissionsOf(request: SeenRequest): string[] {
  const url = new URL(request.url, 'https://x');
  // A subresource of a named object (pods/NAME/log) is its own RBAC resource (pods/log); a
  // proxy path (pods/NAME:PORT/proxy/PATH) goes on past it and is not matched.
  const match =
    /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(
      url.pathname,
    );
  if (!match) return [];
  const resource = `${match[1] ?? ''}/${match[2]}${match[4] ? `/${match[4]}` : ''}`;
  const named = match[3] !== undefined;
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  const verbs: Record<string, string[]> = {
    GET: [watch ? 'watch' : named ? 'get' : 'list'],
    POST: ['create'],
    PUT: ['update'],
    // Server-side apply of an object that does not exist yet creates it: RBAC asks for create too.
    PATCH: request.contentType === 'application/apply-patch+yaml' ? ['patch', 'create'] : ['patch'],
    DELETE: [named ? 'delete' : 'deletecollection'],
  };
  return (verbs[request.method] ?? [request.method]).map((verb) => `${resource} ${verb}`);
}

/** The (resource, verb) pairs a Role grants, as permissionsOf writes them. */
export function rolePermissions(r: V1Role): string[] {
  return (r.rules ?? []).flatMap((rule) =>
    (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((res) => rule.verbs.map((verb) => `${group}/${res} ${verb}`)),
    ),
  );
}
