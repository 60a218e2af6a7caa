// What the plan shows of the live and the dry-run template (issue 26): env values hidden, saying
// whether they change; admission's additions summarised; server defaults not taken for them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fieldCount,
  HIDDEN,
  HIDDEN_CHANGED,
  redactTemplates,
  shownTemplates,
} from '../../src/engine/plan-redact.ts';
import { specChanges } from '../../src/engine/plan-report.ts';

interface Env {
  name: string;
  value?: string;
  valueFrom?: object;
}
const DEFAULTS = { imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' };
const container = (env: Env[] | undefined, extra: object = {}) => ({
  name: 'app',
  image: 'db:v1',
  ...(env === undefined ? {} : { env }),
  ...extra,
});
/** A template as the API server returns it (with defaults), or as the manifests have it. */
const template = (containers: object[], defaults = true, more: object = {}) => ({
  metadata: { labels: { app: 'db' } },
  spec: {
    containers: containers.map((c) => (defaults ? { ...DEFAULTS, ...c } : c)),
    ...(defaults ? { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } : {}),
    ...more,
  },
});
const envOf = (t: unknown, list = 'containers', i = 0) =>
  (t as { spec: Record<string, { env?: Env[] }[]> }).spec[list]?.[i]?.env;

/** The plan's three templates for an env change: live, manifests, dry-run (next). */
function envPlan(liveEnv: Env[], nextEnv: Env[]) {
  return redactTemplates(
    template([container(liveEnv)]),
    template([container(nextEnv)], false),
    template([container(nextEnv)]),
  );
}

describe('the plan hides env values', () => {
  it('a changed value is hidden on both sides, and the next side says it changed', () => {
    const shown = envPlan(
      [{ name: 'DB_PASSWORD', value: 'old-s3cret' }],
      [{ name: 'DB_PASSWORD', value: 'new-s3cret' }],
    );
    assert.deepEqual(envOf(shown.live), [{ name: 'DB_PASSWORD', value: HIDDEN }]);
    assert.deepEqual(envOf(shown.next), [{ name: 'DB_PASSWORD', value: HIDDEN_CHANGED }]);
    assert.doesNotMatch(JSON.stringify(shown), /s3cret/);
  });

  it('an unchanged value is hidden the same on both sides, so the diff shows no change', () => {
    const shown = envPlan(
      [{ name: 'DB_PASSWORD', value: 's3cret' }],
      [{ name: 'DB_PASSWORD', value: 's3cret' }],
    );
    assert.deepEqual(envOf(shown.live), [{ name: 'DB_PASSWORD', value: HIDDEN }]);
    assert.deepEqual(envOf(shown.next), envOf(shown.live));
  });

  it('an added value and a removed one show their names, their values hidden', () => {
    const shown = envPlan([{ name: 'GONE', value: 'old-s3cret' }], [{ name: 'NEW', value: 'new-s3cret' }]);
    assert.deepEqual(envOf(shown.live), [{ name: 'GONE', value: HIDDEN }]);
    assert.deepEqual(envOf(shown.next), [{ name: 'NEW', value: HIDDEN }]);
    assert.doesNotMatch(JSON.stringify(shown), /s3cret/);
  });

  it('a value that replaces a valueFrom is a change; secretKeyRef keeps the Secret and the key', () => {
    const ref = { secretKeyRef: { name: 'db-credentials', key: 'password' } };
    const shown = envPlan(
      [
        { name: 'A', valueFrom: ref },
        { name: 'B', value: 's3cret' },
      ],
      [
        { name: 'A', value: 's3cret' },
        { name: 'B', valueFrom: ref },
      ],
    );
    assert.deepEqual(envOf(shown.live), [
      { name: 'A', valueFrom: ref },
      { name: 'B', value: HIDDEN },
    ]);
    assert.deepEqual(envOf(shown.next), [
      { name: 'A', value: HIDDEN_CHANGED },
      { name: 'B', valueFrom: ref },
    ]);
  });

  it('hides the values of init containers and of a container the manifests remove', () => {
    const live = template(
      [
        container([{ name: 'X', value: 's3cret-1' }]),
        { name: 'old', env: [{ name: 'Y', value: 's3cret-2' }] },
      ],
      true,
      {
        initContainers: [{ name: 'init', env: [{ name: 'Z', value: 's3cret-3' }] }],
      },
    );
    const manifest = template([container(undefined)], false, {
      initContainers: [{ name: 'init', env: [{ name: 'Z', value: 's3cret-4' }] }],
    });
    const shown = redactTemplates(live, manifest, template([container(undefined)], true, manifest.spec));
    assert.doesNotMatch(JSON.stringify(shown), /s3cret/);
    assert.deepEqual(envOf(shown.next, 'initContainers'), [{ name: 'Z', value: HIDDEN_CHANGED }]);
  });

  it('shows everything as it is with plan-show-values', () => {
    const live = template([container([{ name: 'A', value: 'old' }])]);
    const next = template([
      container([
        { name: 'A', value: 'new' },
        { name: 'INJECTED', value: 'x' },
      ]),
    ]);
    assert.deepEqual(
      shownTemplates(true, live, template([container([{ name: 'A', value: 'new' }])], false), next),
      {
        live,
        next,
      },
    );
  });
});

describe('the plan summarises what admission added', () => {
  const injected = {
    name: 'istio-proxy',
    image: 'istio/proxyv2:1.24',
    args: ['proxy', 'sidecar'],
    env: [{ name: 'ISTIO_META_TOKEN', value: 'internal' }],
  };

  it('a container a webhook injected shows as its name and how many fields it has', () => {
    const manifest = template([container(undefined, { image: 'db:v2' })], false);
    const next = template([container(undefined, { image: 'db:v2' }), injected], true, {
      initContainers: [{ name: 'istio-init', image: 'istio/proxyv2:1.24' }],
    });
    const shown = redactTemplates(template([container(undefined)]), manifest, next);
    const spec = (shown.next as { spec: Record<string, unknown[]> }).spec;
    // Its 6 fields and the 2 server defaults the helper adds to every container of a dry-run.
    assert.equal(spec.containers?.[1], 'istio-proxy (added by admission, 8 fields)');
    assert.equal(fieldCount(injected), 6);
    assert.equal(spec.initContainers?.[0], 'istio-init (added by admission, 2 fields)');
    assert.doesNotMatch(JSON.stringify(shown), /proxyv2|internal|sidecar/);
    assert.equal(
      (spec.containers?.[0] as { image?: string } | undefined)?.image,
      'db:v2',
      "the manifests' own container is shown",
    );
  });

  it('an env var, a label, an annotation and a pod spec key a webhook added are summarised', () => {
    const manifest = template([container([{ name: 'A', value: '1' }])], false);
    const next = template(
      [
        container([
          { name: 'A', value: '1' },
          { name: 'OTEL_TOKEN', value: 't0ken' },
        ]),
      ],
      true,
      {
        imagePullSecrets: [{ name: 'internal-registry' }],
      },
    );
    next.metadata = {
      labels: { app: 'db', 'sidecar.istio.io/inject': 'true' },
      annotations: { 'vault.hashicorp.com/role': 'db-admin' },
    } as never;
    const shown = redactTemplates(template([container([{ name: 'A', value: '1' }])]), manifest, next);
    const n = shown.next as {
      metadata: { labels: object; annotations: object };
      spec: { imagePullSecrets: unknown };
    };
    assert.deepEqual(envOf(shown.next), [
      { name: 'A', value: HIDDEN },
      'OTEL_TOKEN (added by admission, 2 fields)',
    ]);
    assert.deepEqual(n.metadata.labels, {
      app: 'db',
      'sidecar.istio.io/inject': '(added by admission, 1 field)',
    });
    assert.deepEqual(n.metadata.annotations, { 'vault.hashicorp.com/role': '(added by admission, 1 field)' });
    assert.equal(n.spec.imagePullSecrets, '(added by admission, 1 field)');
    assert.doesNotMatch(JSON.stringify(shown), /t0ken|internal-registry|db-admin/);
  });

  it('what the live template has but the manifests do not is summarised on both sides, "changed" when it differs', () => {
    const live = template([container(undefined), { ...injected, image: 'istio/proxyv2:1.23' }]);
    const next = template([container(undefined), injected]);
    const shown = redactTemplates(live, template([container(undefined)], false), next);
    const second = (t: unknown) => (t as { spec: { containers: unknown[] } }).spec.containers[1];
    assert.equal(second(shown.live), 'istio-proxy (not in the manifests, 8 fields)');
    assert.equal(second(shown.next), 'istio-proxy (not in the manifests, 8 fields, changed)');
    const same = redactTemplates(next, template([container(undefined)], false), next);
    assert.equal(second(same.live), second(same.next));
  });

  it('server defaults are not admission: neither those of the live template nor those of a new container', () => {
    const live = template([container(undefined)]);
    const manifest = template([container(undefined), { name: 'metrics', image: 'exporter:v1' }], false);
    const next = template([container(undefined), { name: 'metrics', image: 'exporter:v1' }]);
    assert.deepEqual(redactTemplates(live, manifest, next), { live, next });
  });

  it('a new StatefulSet (no live template) still has its injected containers summarised', () => {
    const manifest = template([container(undefined)], false);
    const shown = redactTemplates(undefined, manifest, template([container(undefined), injected]));
    assert.equal(shown.live, undefined);
    assert.match(JSON.stringify(shown.next), /istio-proxy \(added by admission, 8 fields\)/);
    assert.match(JSON.stringify(shown.next), /terminationMessagePath/, 'defaults are not summarised');
  });
});

describe('the rest of the plan', () => {
  it('the other spec changes never hold a template value: only replicas show here', () => {
    const sts = (replicas: number, value: string) => ({
      spec: { replicas, template: template([container([{ name: 'DB_PASSWORD', value }])]) },
    });
    const changes = specChanges(sts(3, 'old-s3cret'), sts(5, 'new-s3cret'));
    assert.deepEqual(changes, [{ field: 'spec.replicas', from: '3', to: '5' }]);
  });
});
