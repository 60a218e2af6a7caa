// Hostile and broken input (issue 6, item 4): each case must be refused before the cluster
// is touched, with the specific error type and a message naming what is wrong and where.
// Big and binary files are generated here into a temp dir instead of being committed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/config/input-error.ts';
import { readSettings } from '../../src/config/inputs.ts';
import { loadManifests, MAX_FILE_BYTES, ManifestError } from '../../src/manifests/load.ts';

/** A valid StatefulSet with `spec` lines replaced or added by `extra` (YAML under spec:). */
function statefulSet(name: string, extra = '', labels = '{ app: web }'): string {
  return `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}
spec:
  serviceName: ${name}
${extra}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: ${labels}
    spec:
      containers: [{ name: app, image: nginx }]
`;
}

const sts = statefulSet('web');
const billionLaughs = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

type Content = string | Buffer;
interface ManifestCase {
  name: string;
  /** Files by name; the first is the one the error must name unless `where` says otherwise. */
  files: Record<string, Content>;
  message: RegExp;
  where?: string;
}

const manifestCases: ManifestCase[] = [
  { name: 'an empty file', files: { 'empty.yaml': '' }, message: /contains no Kubernetes objects/ },
  {
    name: 'a file of comments only',
    files: { 'comments.yaml': '# TODO\n# later\n' },
    message: /empty or only comments/,
  },
  {
    name: 'a file of document separators only',
    files: { 'separators.yaml': '---\n---\n...\n' },
    message: /no Kubernetes objects/,
  },
  {
    name: 'a binary file',
    files: { 'image.yaml': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]) },
    message: /contains NUL bytes: it is binary or UTF-16/,
  },
  {
    name: 'a UTF-16 file',
    files: { 'utf16.yaml': Buffer.from(`\ufeff${sts}`, 'utf16le') },
    message: /binary or UTF-16.*UTF-8/,
  },
  {
    name: 'invalid UTF-8',
    files: { 'latin1.yaml': Buffer.from('kind: Caf\xe9\n', 'latin1') },
    message: /not valid UTF-8 text/,
  },
  {
    name: 'a billion-laughs alias bomb',
    files: { 'bomb.yaml': billionLaughs },
    message: /expands to more than 1,000,000 nodes.*alias bomb/,
  },
  {
    name: 'more aliases than allowed in one document',
    files: { 'aliases.yaml': `x: &x 1\ny: [${Array(1001).fill('*x').join(', ')}]\n` },
    message: /too many YAML aliases/,
  },
  { name: 'a recursive alias', files: { 'cycle.yaml': 'a: &a [*a]\n' }, message: /recursive YAML alias/ },
  {
    name: 'deep flow nesting',
    files: { 'deep.yaml': `${'['.repeat(500)}${']'.repeat(500)}` },
    message: /nests deeper than 100 levels/,
  },
  {
    name: 'deep block nesting',
    files: { 'deep-block.yaml': Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') },
    message: /nests deeper than 100 levels at line/,
  },
  {
    name: 'a very large file',
    files: { 'huge.yaml': `${sts}${`# ${'x'.repeat(1021)}\n`.repeat(MAX_FILE_BYTES / 1024 + 10)}` },
    message: /is 5,2\d\d,\d\d\d bytes; manifest files are limited to 5 MiB \(5,242,880 bytes\)/,
  },
  {
    name: 'unparseable YAML',
    files: { 'broken.yaml': 'kind: "StatefulSet\nmetadata: {' },
    message: /is not valid YAML at line \d+, column \d+/,
  },
  {
    name: 'a JavaScript function tag',
    files: { 'js.yaml': `${sts}---\nx: !!js/function "function () {}"\n` },
    message: /not valid YAML.*unknown scalar tag/,
  },
  {
    name: 'a duplicated mapping key',
    files: { 'dupkey.yaml': 'apiVersion: v1\napiVersion: v2\n' },
    message: /duplicated mapping key/,
  },
  {
    name: 'a document that is a list',
    files: { 'list.yaml': '- a\n- b\n' },
    message: /#1: the document is a list, not a Kubernetes object/,
  },
  {
    name: 'a document that is a string',
    files: { 'scalar.yaml': `${sts}---\nhello world\n` },
    message: /#2: the document is a string \("hello world"\)/,
  },
  {
    name: 'a missing apiVersion',
    files: { 'noapi.yaml': 'kind: ConfigMap\nmetadata: {name: a}\n' },
    message: /#1: apiVersion is missing/,
  },
  {
    name: 'a missing kind',
    files: { 'nokind.yaml': 'apiVersion: v1\nmetadata: {name: a}\n' },
    message: /#1: kind is missing/,
  },
  {
    name: 'a misspelt kind',
    files: { 'lower.yaml': sts.replace('kind: StatefulSet', 'kind: statefulset') },
    message: /kind "statefulset" must be spelled StatefulSet/,
  },
  {
    name: 'an empty List',
    files: { 'kindlist.yaml': 'apiVersion: v1\nkind: List\nitems: []\n' },
    message: /contains no Kubernetes objects \(it is empty or only comments, or an empty List\)/,
  },
  {
    name: 'a List without an items list',
    files: { 'noitems.yaml': `${sts}---\napiVersion: v1\nkind: List\nitems: {a: 1}\n` },
    message: /#2: kind List has no items list/,
  },
  {
    name: 'Lists nested too deep',
    files: {
      'deep.yaml': `${'apiVersion: v1\nkind: List\nitems:\n- '.repeat(1)}${JSON.stringify(
        Array.from({ length: 9 }).reduce(
          (inner: unknown) => ({ apiVersion: 'v1', kind: 'List', items: [inner] }),
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'a' },
          },
        ),
      )}\n`,
    },
    message: /lists nested more than 8 deep/,
  },
  {
    name: 'an item of a List that is not an object',
    files: { 'baditem.yaml': `apiVersion: v1\nkind: List\nitems:\n- hello\n` },
    message: /baditem\.yaml#1\.items\[0\]: the document is a string/,
  },
  {
    name: 'missing metadata',
    files: { 'nometa.yaml': 'apiVersion: v1\nkind: ConfigMap\n' },
    message: /ConfigMap has no metadata/,
  },
  {
    name: 'a missing name',
    files: { 'noname.yaml': sts.replace('  name: web\n', '  labels: {}\n') },
    message: /StatefulSet has no metadata\.name/,
  },
  {
    name: 'a name YAML reads as a number',
    files: { 'numname.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 123}\n' },
    message: /ConfigMap metadata\.name is the number 123; quote it: name: "123"/,
  },
  {
    name: 'generateName without a name',
    files: { 'gen.yaml': sts.replace('  name: web\n', '  generateName: web-\n') },
    message: /generateName cannot be applied/,
  },
  {
    name: 'a name with capitals',
    files: { 'caps.yaml': statefulSet('Web') },
    message: /metadata\.name "Web" must be lowercase/,
  },
  {
    name: 'a bad namespace',
    files: { 'ns.yaml': sts.replace('  name: web\n', '  name: web\n  namespace: Prod_1\n') },
    message: /metadata\.namespace "Prod_1" must be lowercase/,
  },
  {
    name: 'an old StatefulSet apiVersion',
    files: { 'beta.yaml': sts.replace('apps/v1', 'apps/v1beta2') },
    message: /apiVersion is "apps\/v1beta2".*removed in Kubernetes 1\.16/,
  },
  {
    name: 'a StatefulSet from another API group',
    files: { 'kruise.yaml': sts.replace('apps/v1', 'apps.kruise.io/v1beta1') },
    message: /only apps\/v1 StatefulSets can be rolled out/,
  },
  {
    name: 'duplicate StatefulSets in one file',
    files: { 'dup.yaml': `${sts}---\n${sts}` },
    message: /dup\.yaml#2 \(StatefulSet default\/web\) repeats the object already defined at dup\.yaml#1/,
  },
  {
    name: 'duplicate StatefulSets across files',
    files: { 'one.yaml': sts, 'two.yaml': sts },
    where: 'two.yaml',
    message: /two\.yaml#1 .* already defined at one\.yaml#1/,
  },
  {
    name: 'no StatefulSet',
    files: { 'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n' },
    message: /No StatefulSet in svc\.yaml/,
  },
  {
    name: 'replicas -1',
    files: { 'r-neg.yaml': statefulSet('web', '  replicas: -1') },
    message: /spec\.replicas is -1.*whole number from 0/,
  },
  {
    name: 'replicas 1.5',
    files: { 'r-frac.yaml': statefulSet('web', '  replicas: 1.5') },
    message: /spec\.replicas is 1\.5/,
  },
  {
    name: 'replicas as a string',
    files: { 'r-str.yaml': statefulSet('web', '  replicas: "3"') },
    message: /spec\.replicas is the string "3".*without quotes/,
  },
  {
    name: 'replicas beyond int32',
    files: { 'r-huge.yaml': statefulSet('web', '  replicas: 10000000000') },
    message: /spec\.replicas is 10000000000/,
  },
  {
    name: 'replicas as a mapping',
    files: { 'r-map.yaml': statefulSet('web', '  replicas: {n: 3}') },
    message: /spec\.replicas is \{"n":3\}/,
  },
  {
    name: 'a negative partition',
    files: { 'p-neg.yaml': statefulSet('web', '  updateStrategy: {rollingUpdate: {partition: -1}}') },
    message: /rollingUpdate\.partition is -1/,
  },
  {
    name: 'a fractional partition',
    files: { 'p-frac.yaml': statefulSet('web', '  updateStrategy: {rollingUpdate: {partition: 0.5}}') },
    message: /rollingUpdate\.partition is 0\.5/,
  },
  {
    name: 'a partition as a string',
    files: { 'p-str.yaml': statefulSet('web', '  updateStrategy: {rollingUpdate: {partition: "2"}}') },
    message: /rollingUpdate\.partition is the string "2"/,
  },
  {
    name: 'an OnDelete StatefulSet',
    files: { 'ondelete.yaml': statefulSet('web', '  updateStrategy: {type: OnDelete}') },
    message: /type is OnDelete, so the controller never updates pods by itself.*Fix: use type: RollingUpdate/,
  },
  {
    name: 'an unknown update strategy',
    files: { 'strategy.yaml': statefulSet('web', '  updateStrategy: {type: BlueGreen}') },
    message: /updateStrategy\.type "BlueGreen"/,
  },
  {
    name: 'a selector that misses the template',
    files: { 'mismatch.yaml': statefulSet('web', '', '{ app: api }') },
    message: /matchLabels app="web" does not match the template label app="api"/,
  },
  {
    name: 'a selector expression that excludes the template',
    files: {
      'expr.yaml': statefulSet('web', '', '{ app: web, tier: db }').replace(
        'matchLabels: { app: web }',
        'matchLabels: { app: web }\n    matchExpressions: [{key: tier, operator: NotIn, values: [db]}]',
      ),
    },
    message: /matchExpressions\[0\] \(tier NotIn \["db"\]\) does not select the pod template/,
  },
  {
    name: 'an empty selector',
    files: { 'empty-sel.yaml': sts.replace('matchLabels: { app: web }', 'matchLabels: {}') },
    message: /spec\.selector is empty/,
  },
  {
    name: 'a missing spec',
    files: { 'nospec.yaml': 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\n' },
    message: /StatefulSet default\/web\): spec is missing/,
  },
];

const inputCases: { name: string; values: Record<string, string>; input: string; message: RegExp }[] = [
  {
    name: 'steps with 0',
    values: { steps: '0, 100%' },
    input: 'steps',
    message: /step 1 \("0"\) updates no pod/,
  },
  { name: 'steps with 0%', values: { steps: '0%' }, input: 'steps', message: /"0%"\) updates no pod/ },
  { name: 'a negative step', values: { steps: '-1, 100%' }, input: 'steps', message: /"-1"\) is negative/ },
  {
    name: 'a step over 100%',
    values: { steps: '1, 150%' },
    input: 'steps',
    message: /"150%"\) is over 100%/,
  },
  {
    name: 'decreasing steps',
    values: { steps: '3, 2, 100%' },
    input: 'steps',
    message: /steps go down from 3 to 2/,
  },
  {
    name: 'decreasing percentages',
    values: { steps: '50%, 25%' },
    input: 'steps',
    message: /steps go down from 50% to 25%/,
  },
  { name: 'a duplicate step', values: { steps: '1, 1, 100%' }, input: 'steps', message: /"1" appears twice/ },
  { name: 'a step after 100%', values: { steps: '100%, 5' }, input: 'steps', message: /"5" follows 100%/ },
  {
    name: 'garbage steps',
    values: { steps: 'canary, then all' },
    input: 'steps',
    message: /"canary"\) is not a count or a percentage/,
  },
  {
    name: 'a fractional step',
    values: { steps: '1.5, 100%' },
    input: 'steps',
    message: /"1.5"\) is not a count or a percentage/,
  },
  { name: 'steps of only separators', values: { steps: ', ,\n,' }, input: 'steps', message: /is empty/ },
  {
    name: 'a huge count step',
    values: { steps: '99999999999' },
    input: 'steps',
    message: /larger than any StatefulSet/,
  },
  { name: 'a soak without a unit', values: { soak: '30' }, input: 'soak', message: /"30" is not a duration/ },
  {
    name: 'a soak in words',
    values: { soak: 'five minutes' },
    input: 'soak',
    message: /"five minutes" is not a duration/,
  },
  {
    name: 'a stage timeout in days',
    values: { 'stage-timeout': '1d' },
    input: 'stage-timeout',
    message: /"1d" is not a duration/,
  },
  {
    name: 'a negative lock timeout',
    values: { 'lock-timeout': '-1m' },
    input: 'lock-timeout',
    message: /"-1m" is negative/,
  },
  {
    name: 'an overflowing soak',
    values: { soak: '100000000h' },
    input: 'soak',
    message: /"100000000h" is too long/,
  },
  {
    name: 'a control character in the field manager',
    values: { 'field-manager': 'ci\u0000' },
    input: 'field-manager',
    message: /not printable/,
  },
];

describe('hostile manifests are refused with a ManifestError naming the file', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostile-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  manifestCases.forEach((c, index) => {
    it(`Refuses ${c.name}`, async () => {
      const caseDir = join(dir, String(index));
      await mkdir(caseDir);
      for (const [file, content] of Object.entries(c.files)) await writeFile(join(caseDir, file), content);
      const patterns = Object.keys(c.files);
      const where = c.where ?? patterns[0]!;
      await assert.rejects(
        loadManifests(patterns, { defaultNamespace: 'default', cwd: caseDir }),
        (error: unknown) => {
          assert.ok(error instanceof ManifestError, `expected ManifestError, got ${String(error)}`);
          assert.match(error.message, c.message);
          assert.ok(error.message.includes(where), `message names ${where}: ${error.message}`);
          assert.ok(error.message.length < 600, `message is short: ${error.message.length} characters`);
          return true;
        },
      );
    });
  });
});

describe('hostile inputs are refused with an InputError naming the input', () => {
  for (const c of inputCases) {
    it(`Refuses ${c.name}`, () => {
      assert.throws(
        () => readSettings((name) => ({ manifests: 'k8s/*.yaml', ...c.values })[name] ?? ''),
        (error: unknown) => {
          assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
          assert.equal(error.input, c.input);
          assert.ok(error.message.startsWith(`Input ${c.input}: `), error.message);
          assert.match(error.message, c.message);
          return true;
        },
      );
    });
  }
});

it('Covers at least 30 distinct hostile cases', () => {
  assert.ok(manifestCases.length + inputCases.length >= 30);
});
