import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadManifests, ManifestError } from '../../src/manifests/load.ts';

const fixtures = fileURLToPath(new URL('../fixtures/manifests/', import.meta.url));
const options = { defaultNamespace: 'default', cwd: fixtures };

function summary(set: Awaited<ReturnType<typeof loadManifests>>) {
  const line = ({ object, source }: (typeof set.statefulSets)[number]) =>
    `${object.kind} ${object.metadata.namespace ?? '-'}/${object.metadata.name} @ ${source}`;
  return { statefulSets: set.statefulSets.map(line), others: set.others.map(line) };
}

describe('loadManifests', () => {
  it('Splits StatefulSets from other objects, in file order, skipping empty documents', async () => {
    const set = await loadManifests(['app/web.yaml'], options);
    assert.deepEqual(summary(set), {
      statefulSets: ['StatefulSet default/web @ app/web.yaml#4'],
      others: ['ConfigMap default/web-config @ app/web.yaml#1', 'Service default/web @ app/web.yaml#3'],
    });
  });

  it('Expands globs, sorted, and keeps an object’s own namespace over the default', async () => {
    const set = await loadManifests(['app/*'], { ...options, defaultNamespace: 'team' });
    assert.deepEqual(summary(set).statefulSets, [
      'StatefulSet data/db @ app/db.yml#1',
      'StatefulSet team/web @ app/web.yaml#4',
    ]);
  });

  it('Lets the namespace input override every object’s own namespace', async () => {
    const set = await loadManifests(['app/*.y*ml'], { ...options, namespaceOverride: 'staging' });
    for (const { object } of [...set.statefulSets, ...set.others])
      assert.equal(object.metadata.namespace, 'staging');
  });

  it('Gives cluster-scoped kinds no namespace, even when the manifest sets one', async () => {
    const set = await loadManifests(['cluster.yaml'], { ...options, namespaceOverride: 'staging' });
    assert.deepEqual(summary(set), {
      statefulSets: ['StatefulSet staging/cache @ cluster.yaml#3'],
      others: [
        'Namespace -/data @ cluster.yaml#1',
        'ClusterRole -/system:aggregate-to-view-web @ cluster.yaml#2',
      ],
    });
    assert.equal(Object.hasOwn(set.others[1]!.object.metadata, 'namespace'), false);
  });

  it('Reads a file named by two patterns once', async () => {
    const set = await loadManifests(['app/web.yaml', 'app/*.yaml'], options);
    assert.equal(set.statefulSets.length, 1);
  });

  it('Accepts absolute paths', async () => {
    const set = await loadManifests([`${fixtures}app/db.yml`], options);
    assert.equal(set.statefulSets[0]!.object.metadata.name, 'db');
  });

  it('Keeps the manifest’s fields as written, apart from the namespace', async () => {
    const set = await loadManifests(['app/db.yml'], options);
    const spec = set.statefulSets[0]!.object.spec as { replicas: number; updateStrategy: unknown };
    assert.equal(spec.replicas, 3);
    assert.deepEqual(spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  });

  it('Accepts a large plain file with more nodes than the alias limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'large-'));
    try {
      const web = await readFile(join(fixtures, 'app/web.yaml'), 'utf8');
      const numbers = `[${Array(1_500_000).fill('1').join(',')}]`;
      await writeFile(
        join(dir, 'large.yaml'),
        `${web}---\napiVersion: example.com/v1\nkind: Big\nmetadata: {name: big}\nitems: ${numbers}\n`,
      );
      // Accepted is the behaviour; how fast it loads is not held to a bound a loaded machine breaks.
      const set = await loadManifests(['large.yaml'], { ...options, cwd: dir });
      assert.equal(set.others.at(-1)?.object.kind, 'Big');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a glob match that a symlink leads out of the working directory, naming the file and the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'symlink-'));
    try {
      const web = await readFile(join(fixtures, 'app/web.yaml'), 'utf8');
      await mkdir(join(dir, 'outside'));
      await mkdir(join(dir, 'workspace/k8s'), { recursive: true });
      await writeFile(join(dir, 'outside/secret.yaml'), web);
      await writeFile(join(dir, 'workspace/k8s/web.yaml'), web);
      await symlink(join(dir, 'outside/secret.yaml'), join(dir, 'workspace/k8s/z-link.yaml'));
      await symlink('web.yaml', join(dir, 'workspace/k8s/inside-link.yml'));
      const cwd = join(dir, 'workspace');
      await assert.rejects(
        loadManifests(['k8s/*.yaml'], { ...options, cwd }),
        (error: unknown) =>
          error instanceof ManifestError &&
          /k8s\/z-link\.yaml is a symlink to .*outside\/secret\.yaml, outside the working directory/.test(
            error.message,
          ) &&
          /Fix: replace the symlink/.test(error.message),
      );
      // A symlink that stays inside the workspace is read.
      const set = await loadManifests(['k8s/inside-link.yml'], { ...options, cwd });
      assert.match(set.statefulSets[0]?.source ?? '', /^k8s\/inside-link\.yml#/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const bad: { name: string; patterns: string[]; message: RegExp }[] = [
    {
      name: 'an OnDelete StatefulSet, naming file, object and fix',
      patterns: ['bad/ondelete.yaml'],
      message:
        /^bad\/ondelete\.yaml#1 \(StatefulSet prod\/legacy\): spec\.updateStrategy\.type is OnDelete, so .*Fix: use type: RollingUpdate/,
    },
    {
      name: 'a selector that does not match the template labels',
      patterns: ['bad/selector-mismatch.yaml'],
      message:
        /^bad\/selector-mismatch\.yaml#1 \(StatefulSet default\/web\): spec\.selector\.matchLabels app="web" does not match the template label app="website"/,
    },
    {
      name: 'manifests without a StatefulSet',
      patterns: ['bad/only-configmap.yaml'],
      message: /^No StatefulSet in bad\/only-configmap\.yaml; .*apps\/v1/,
    },
    {
      name: 'a pattern that matches nothing',
      patterns: ['app/web.yaml', 'missing/*.yaml'],
      message: /"missing\/\*\.yaml" matches no file/,
    },
    {
      name: 'a directory given as a pattern',
      patterns: ['app'],
      message: /"app" matches only directories; name the files, e.g\. app\/\*\.yaml/,
    },
    { name: 'an empty pattern list', patterns: [], message: /No manifests given/ },
  ];
  for (const c of bad) {
    it(`Rejects ${c.name}`, async () => {
      await assert.rejects(loadManifests(c.patterns, options), (error: unknown) => {
        assert.ok(error instanceof ManifestError, `expected ManifestError, got ${String(error)}`);
        assert.match(error.message, c.message);
        return true;
      });
    });
  }
});

describe('kind: List documents, as kubectl get -o yaml prints them', () => {
  const sts = (name: string) => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, resourceVersion: '123', uid: 'u-1' },
    spec: {
      replicas: 2,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.local/app:v1' }] },
      },
    },
    status: { replicas: 2 },
  });
  const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
  const list = (items: unknown[], kind = 'List') => ({
    apiVersion: 'v1',
    kind,
    items,
    metadata: { resourceVersion: '' },
  });
  const cases: { name: string; documents: unknown[]; want: ReturnType<typeof summary> }[] = [
    {
      name: 'Takes the items of a List, in order, each named by its place in the List',
      documents: [list([cm('config'), sts('db')])],
      want: {
        statefulSets: ['StatefulSet default/db @ list.yaml#1.items[1]'],
        others: ['ConfigMap default/config @ list.yaml#1.items[0]'],
      },
    },
    {
      name: 'Takes a <Kind>List with items as its items (kubectl get statefulsets -o json)',
      documents: [list([sts('db'), sts('web')], 'StatefulSetList')],
      want: {
        statefulSets: [
          'StatefulSet default/db @ list.yaml#1.items[0]',
          'StatefulSet default/web @ list.yaml#1.items[1]',
        ],
        others: [],
      },
    },
    {
      name: 'Flattens a List inside a List',
      documents: [list([list([sts('db')]), cm('config')])],
      want: {
        statefulSets: ['StatefulSet default/db @ list.yaml#1.items[0].items[0]'],
        others: ['ConfigMap default/config @ list.yaml#1.items[1]'],
      },
    },
    {
      name: 'Mixes Lists and plain documents in file order',
      documents: [cm('first'), list([sts('db')]), cm('last')],
      want: {
        statefulSets: ['StatefulSet default/db @ list.yaml#2.items[0]'],
        others: ['ConfigMap default/first @ list.yaml#1', 'ConfigMap default/last @ list.yaml#3'],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'list-'));
      try {
        await writeFile(join(dir, 'list.yaml'), c.documents.map((d) => JSON.stringify(d)).join('\n---\n'));
        assert.deepEqual(summary(await loadManifests(['list.yaml'], { ...options, cwd: dir })), c.want);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('Refuses an object that a List repeats, naming both places', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'list-'));
    try {
      await writeFile(
        join(dir, 'list.yaml'),
        `${JSON.stringify(sts('db'))}\n---\n${JSON.stringify(list([sts('db')]))}`,
      );
      await assert.rejects(
        loadManifests(['list.yaml'], { ...options, cwd: dir }),
        (error: Error) =>
          error instanceof ManifestError &&
          /list\.yaml#2\.items\[0\] .*repeats the object already defined at list\.yaml#1/.test(error.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
