import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify } from '../../bench/proxy.ts';

// The bench's recording proxy names requests as the audit log and RBAC do, so a figure can count
// one subresource (`get pods/log`) apart from the resource's own reads.
describe('classify (bench recording proxy)', () => {
  const none = new URLSearchParams();
  const cases: [string, string, string, URLSearchParams, string, string, string | undefined][] = [
    [
      'A crash-log read is get pods/log',
      'GET',
      '/api/v1/namespaces/n/pods/web-9/log',
      new URLSearchParams({ previous: 'true' }),
      'get',
      'pods/log',
      'web-9',
    ],
    [
      'A pod proxy request is get pods/proxy',
      'GET',
      '/api/v1/namespaces/n/pods/web-9:8080/proxy/healthz',
      none,
      'get',
      'pods/proxy',
      'web-9:8080',
    ],
    ['A pod read is get pods', 'GET', '/api/v1/namespaces/n/pods/web-9', none, 'get', 'pods', 'web-9'],
    ['A pod list is list pods', 'GET', '/api/v1/namespaces/n/pods', none, 'list', 'pods', undefined],
    [
      'A watch is watch',
      'GET',
      '/apis/apps/v1/namespaces/n/statefulsets',
      new URLSearchParams({ watch: 'true' }),
      'watch',
      'statefulsets',
      undefined,
    ],
    [
      'A lease renewal is update leases',
      'PUT',
      '/apis/coordination.k8s.io/v1/namespaces/n/leases/l',
      none,
      'update',
      'leases',
      'l',
    ],
    [
      'A cluster-scoped read keeps its resource',
      'GET',
      '/apis/storage.k8s.io/v1/storageclasses/fast',
      none,
      'get',
      'storageclasses',
      'fast',
    ],
    ['A namespace read is get namespaces', 'GET', '/api/v1/namespaces/n', none, 'get', 'namespaces', 'n'],
    ['A group version is discovery', 'GET', '/apis/apps/v1', none, 'get', 'discovery', undefined],
  ];
  for (const [title, method, path, query, verb, resource, name] of cases) {
    it(title, () => assert.deepEqual(classify(method, path, query), { verb, resource, name }));
  }
});
