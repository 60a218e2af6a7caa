// The npm package as a user gets it: `npm pack` of this checkout, installed into an empty
// directory with no registry (the package has no dependencies: dist/cli.js bundles them).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../cluster/control-plane/state.ts';

/** The directory of the Node 24 binary the tests run on (node@24 from node_modules). */
export const node24Dir = dirname(process.execPath);

/** What a command did: its exit code and its output. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in `cwd` with exactly `env` (nothing inherited), killed after `timeout` ms. */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd?: string,
  timeout = 120_000,
): Ran {
  const result = spawnSync(command, args, { encoding: 'utf8', env, cwd, timeout });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A command's exit code and output, for an assertion's message. */
export const said = (r: Ran) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/** Temporary directories a test file makes (or keeps), all removed by `removeAll` after it. */
export function tempDirs() {
  const dirs: string[] = [];
  return {
    make(prefix: string): string {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    keep(dir: string): void {
      dirs.push(dir);
    },
    removeAll(): void {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PackedCli {
  /** The .tgz `npm pack` wrote. */
  readonly tarball: string;
  /** Its size in bytes and the files in it, as npm pack --json reports them. */
  readonly size: number;
  readonly files: readonly string[];
}

/** `npm pack` of this checkout into a new temporary directory. */
export function packCli(): PackedCli {
  const dir = mkdtempSync(join(tmpdir(), 'sts-canary-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [packed] = JSON.parse(out) as { filename: string; size: number; files: { path: string }[] }[];
  if (!packed) throw new Error(`npm pack printed no package: ${out}`);
  return { tarball: join(dir, packed.filename), size: packed.size, files: packed.files.map((f) => f.path) };
}

/**
 * Installs the tarball into a new empty directory, offline: it fails if the package asks for
 * anything from a registry. Returns the directory and its node_modules/.bin.
 */
export function installCli(tarball: string): { dir: string; bin: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sts-canary-install-'));
  mkdirSync(join(dir, 'node_modules'));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PATH: `${node24Dir}:${process.env.PATH}` },
  });
  return { dir, bin: join(dir, 'node_modules/.bin') };
}

/**
 * .krew.yaml rendered as krew-release-bot renders it on a release: `{{ .TagName }}` is the tag,
 * and `{{addURIAndSha "URL" .TagName }}` becomes the `uri:` and `sha256:` of the archive, at the
 * placeholder's indentation.
 */
export function renderKrewManifest(template: string, tag: string, sha256: string): string {
  return template
    .replace(
      /^( *)\{\{addURIAndSha "([^"]+)" \.TagName \}\}$/gm,
      (_, indent: string, uri: string) => `${indent}uri: ${uri}\n${indent}sha256: ${sha256}`,
    )
    .replaceAll('{{ .TagName }}', tag);
}
