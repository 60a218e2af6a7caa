// The CLI in the three forms users install (docs/cli.md), each run against the local control
// plane: the npm package from `npm pack`, installed offline into an empty directory and run
// with npx; the single executable (scripts/sea.ts) with no Node on the PATH; and both as a
// kubectl plugin, found and run by the real kubectl of the control plane's release.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { EXIT_CODES, JSON_KEYS } from '../../src/adapters/console/outcome.ts';
import { readState, repoRoot } from '../cluster/control-plane/state.ts';
import { freshNamespace, type TestNamespace } from '../cluster/harness.ts';
import {
  installCli,
  node24Dir,
  type PackedCli,
  packCli,
  renderKrewManifest,
  runCommand as run,
  said,
  tempDirs,
} from '../support/cli-package.ts';
import { canaryManifest } from '../support/manifests.ts';
import { manifestFile } from '../support/run/in-process.ts';

/** This process's environment, as `run` takes it. */
const processEnv = (): Record<string, string> =>
  Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));

const temp = tempDirs();
const tempDir = temp.make;

/** A directory holding only `names` (links to their paths), to build a PATH of exactly them. */
function pathOf(links: Record<string, string>): string {
  const dir = tempDir('sts-canary-path-');
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
  return dir;
}

describe('the CLI as users install it', () => {
  let ns: TestNamespace;
  let kubeconfig: string;
  let packed: PackedCli;
  let installed: { dir: string; bin: string };
  let seaDir: string;
  let sea: string;
  let kubectl: string;
  const fast = ['--soak', '0s', '--stage-timeout', '60s', '--steps', '1, 100%'];
  const manifests = (image: string) => manifestFile([canaryManifest({ image, replicas: 3 })]);

  before(async () => {
    ns = await freshNamespace('cli-forms');
    kubeconfig = join(tempDir('sts-canary-kubeconfig-'), 'config');
    writeFileSync(kubeconfig, ns.kubeConfig.exportConfig(), { mode: 0o600 });
    const binDir = readState()?.binDir;
    assert.ok(binDir, 'the local cluster records its bin dir');
    kubectl = join(binDir, 'kubectl');
    assert.ok(existsSync(kubectl), `no kubectl in ${binDir}: run test/cluster/build/build-binaries.sh`);
    packed = packCli();
    temp.keep(dirname(packed.tarball));
    installed = installCli(packed.tarball);
    temp.keep(installed.dir);
    seaDir = tempDir('sts-canary-sea-out-');
    const built = run(process.execPath, [join(repoRoot, 'scripts/sea.ts'), '--out', seaDir], {
      PATH: process.env.PATH ?? '',
    });
    assert.equal(built.code, 0, said(built));
    sea = join(seaDir, 'statefulset-canary-linux-x64');
  });
  after(async () => {
    await ns.cleanup();
    temp.removeAll();
  });

  const apps = () => ns.kubeConfig.makeApiClient(AppsV1Api);

  it('packs only the launcher, the bundle and the package files, and installs nothing else', () => {
    assert.deepEqual([...packed.files].sort(), [
      'LICENSE',
      'README.md',
      'bin/statefulset-canary.cjs',
      'dist/cli.js',
      'package.json',
    ]);
    const modules = readdirSync(join(installed.dir, 'node_modules')).filter((m) => !m.startsWith('.'));
    assert.deepEqual(modules, ['statefulset-canary'], 'no dependency is installed');
    assert.deepEqual(readdirSync(installed.bin).sort(), ['kubectl-statefulset_canary', 'statefulset-canary']);
  });

  it('refuses a Node older than 24 before anything runs, naming what to install', () => {
    // The machine's own Node (20 on these machines: docs/cli.md's "older Node").
    const older = run('/usr/bin/node', ['-p', 'process.versions.node'], { PATH: '/usr/bin:/bin' });
    assert.ok(
      Number(older.stdout.split('.')[0]) < 24,
      `expected an older Node at /usr/bin/node: ${said(older)}`,
    );
    const refused = run(
      '/usr/bin/node',
      [
        join(installed.bin, 'statefulset-canary'),
        'rollout',
        '--manifests',
        manifests('registry.local/db:v1'),
      ],
      { PATH: '/usr/bin:/bin', KUBECONFIG: kubeconfig },
    );
    assert.equal(refused.code, EXIT_CODES.usage, said(refused));
    assert.match(refused.stderr, /needs Node\.js 24 or newer, and this is Node\.js v\d+/);
    assert.match(refused.stderr, /single executable statefulset-canary-linux-x64/);
    assert.equal(refused.stdout, '');
  });

  it('rolls out, plans and reports status with npx from the packed tarball, on Node 24', async () => {
    const env = { PATH: `${node24Dir}:/usr/bin:/bin`, HOME: installed.dir, KUBECONFIG: kubeconfig };
    const npx = (...args: string[]) =>
      run(
        'npm',
        ['exec', '--offline', '--yes', `--package=${packed.tarball}`, '--', 'statefulset-canary', ...args],
        env,
        installed.dir,
      );
    const help = npx('--help');
    assert.equal(help.code, EXIT_CODES.ok, said(help));
    assert.match(
      help.stderr,
      /^usage: statefulset-canary <rollout\|rollback\|status\|plan\|promote\|abort\|park>/,
    );
    assert.match(help.stderr, /kubectl statefulset-canary <command>/);
    const created = npx('rollout', '--manifests', manifests('registry.local/db:v1'), ...fast, '--json');
    assert.equal(created.code, EXIT_CODES.ok, said(created));
    const json = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), [...JSON_KEYS]);
    assert.equal(json.result, 'created');
    const plan = npx('plan', '--manifests', manifests('registry.local/db:v2'), ...fast);
    assert.equal(plan.code, EXIT_CODES.ok, said(plan));
    assert.match(plan.stdout, /stage 1: partition 2, restarts ordinal 2/);
    const status = npx('status', '--statefulset', 'db', '-n', ns.name, '--json');
    assert.equal(status.code, EXIT_CODES.ok, said(status));
    assert.match(String((JSON.parse(status.stdout) as { text: string }).text), /db/);
    const sts = await apps().readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(
      sts.spec?.template.spec?.containers[0]?.image,
      'registry.local/db:v1',
      'the plan changed nothing',
    );
    const bad = npx('rollout', '--manifests', manifests('registry.local/db:v2'), '--soak', 'soon');
    assert.equal(bad.code, EXIT_CODES.usage, said(bad));
    assert.match(bad.stderr, /Input soak: /);
  });

  it('rolls out as a single executable with no Node on the PATH', async () => {
    const env = { PATH: pathOf({}), HOME: seaDir, KUBECONFIG: kubeconfig };
    const which = run('/bin/sh', ['-c', 'command -v node || echo none'], env);
    assert.equal(which.stdout.trim(), 'none', 'no node on the PATH');
    const rolled = run(
      sea,
      ['rollout', '--manifests', manifests('registry.local/db:v2'), ...fast, '--json'],
      env,
    );
    assert.equal(rolled.code, EXIT_CODES.ok, said(rolled));
    const json = JSON.parse(rolled.stdout) as { result: string; stages: { partition: number }[] };
    assert.equal(json.result, 'succeeded');
    assert.deepEqual(
      json.stages.map((s) => s.partition),
      [2, 0],
    );
    const sts = await apps().readNamespacedStatefulSet({ name: 'db', namespace: ns.name });
    assert.equal(sts.spec?.template.spec?.containers[0]?.image, 'registry.local/db:v2');
    const version = run(sea, ['--version'], env);
    assert.equal(
      version.stdout,
      `statefulset-canary ${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`,
    );
  });

  it('answers as `kubectl statefulset-canary`, from the npm package and from the single executable', () => {
    const viaPackage = { PATH: `${pathOf({ kubectl })}:${installed.bin}:${node24Dir}`, HOME: installed.dir };
    const plugins = run(kubectl, ['plugin', 'list', '--name-only'], viaPackage);
    assert.match(plugins.stdout, /^kubectl-statefulset_canary$/m, said(plugins));
    // kubectl's conventions: -n, --context and --kubeconfig after the plugin's name, or KUBECONFIG.
    const flags = run(
      kubectl,
      [
        'statefulset-canary',
        'status',
        '--statefulset',
        'db',
        '-n',
        ns.name,
        '--context',
        'local',
        '--kubeconfig',
        kubeconfig,
      ],
      viaPackage,
    );
    assert.equal(flags.code, EXIT_CODES.ok, said(flags));
    assert.match(flags.stdout, /registry\.local\/db:v2/);
    const noNode = {
      PATH: `${pathOf({ kubectl, 'kubectl-statefulset_canary': sea })}`,
      HOME: seaDir,
      KUBECONFIG: kubeconfig,
    };
    const status = run(kubectl, ['statefulset-canary', 'status', '--statefulset', 'db', '--json'], noNode);
    assert.equal(status.code, EXIT_CODES.ok, said(status));
    assert.equal((JSON.parse(status.stdout) as { failure: unknown }).failure, null);
    const unknown = run(
      kubectl,
      ['statefulset-canary', 'status', '--statefulset', 'db', '--context', 'nope'],
      noNode,
    );
    assert.equal(unknown.code, EXIT_CODES.usage, said(unknown));
    assert.match(unknown.stderr, /Context "nope" is not in the kubeconfig .*Available contexts: local/);
  });

  it('installs with krew from .krew.yaml and the release archive, and runs as kubectl statefulset-canary', () => {
    // npm test builds krew before the tests (a no-op here then); run alone, this file builds it.
    const built = run('bash', [join(repoRoot, 'test/cluster/build/build-krew.sh')], processEnv(), repoRoot);
    assert.equal(built.code, 0, `test/cluster/build/build-krew.sh failed: ${said(built)}`);
    const krew = built.stdout.trim().split('\n').at(-1) as string;
    const archive = `${sea}.tar.gz`;
    const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
    assert.equal(
      readFileSync(`${archive}.sha256`, 'utf8'),
      `${sha256}  statefulset-canary-linux-x64.tar.gz\n`,
    );
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const rendered = renderKrewManifest(readFileSync('.krew.yaml', 'utf8'), `v${pkg.version}`, sha256);
    const manifest = load(rendered) as {
      metadata: { name: string };
      spec: { version: string; platforms: { uri: string; sha256: string; bin: string }[] };
    };
    assert.equal(manifest.metadata.name, 'statefulset-canary');
    assert.equal(manifest.spec.version, `v${pkg.version}`);
    assert.deepEqual(
      manifest.spec.platforms.map((p) => p.uri),
      [
        `https://github.com/statefulset-canary/statefulset-canary/releases/download/v${pkg.version}/statefulset-canary-linux-x64.tar.gz`,
      ],
      'the archive the release workflow attaches',
    );
    const file = join(tempDir('sts-canary-krew-manifest-'), 'statefulset-canary.yaml');
    writeFileSync(file, rendered);
    const root = tempDir('sts-canary-krew-root-');
    const installedByKrew = run(krew, ['install', `--manifest=${file}`, `--archive=${archive}`], {
      PATH: '/usr/bin:/bin',
      HOME: root,
      KREW_ROOT: root,
    });
    assert.equal(installedByKrew.code, 0, said(installedByKrew));
    assert.match(installedByKrew.stderr, /Installed plugin: statefulset-canary/);
    const env = { PATH: `${join(root, 'bin')}:${pathOf({ kubectl })}`, HOME: root, KUBECONFIG: kubeconfig };
    const status = run(kubectl, ['statefulset-canary', 'status', '--statefulset', 'db', '-n', ns.name], env);
    assert.equal(status.code, EXIT_CODES.ok, said(status));
    assert.match(status.stdout, /registry\.local\/db:v2/);
  });
});
