// docs/cli.md's exit codes and --json keys are the code's (src/adapters/console/outcome.ts), and
// the version the CLI prints is package.json's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EXIT_CODES, JSON_KEYS, jsonFailure } from '../../src/adapters/console/outcome.ts';
import { RESULT_SEVERITY } from '../../src/engine/result.ts';
import { version } from '../../src/version.ts';

const page = readFileSync('docs/cli.md', 'utf8');

/** The first column and the rest of each row of the table under `## heading`. */
function table(heading: string): [string, string][] {
  const start = page.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/cli.md has no "## ${heading}"`);
  const end = page.indexOf('\n## ', start + 1);
  const section = page.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .slice(1)
    .map((line) => {
      const [first = '', ...rest] = line.slice(2, -2).split(' | ');
      return [first.replace(/`/g, ''), rest.join(' | ')];
    });
}

describe('the command line contract in docs/cli.md', () => {
  it('lists exactly the exit codes the CLI returns', () => {
    assert.deepEqual(
      table('Exit codes').map(([code]) => Number(code)),
      Object.values(EXIT_CODES).sort(),
    );
  });

  it('lists exactly the --json keys, in their order', () => {
    assert.deepEqual(
      table('JSON output').map(([key]) => key),
      [...JSON_KEYS],
    );
  });

  it('names every result, from least to most severe', () => {
    const row = table('JSON output').find(([key]) => key === 'result')?.[1] ?? '';
    assert.deepEqual(
      [...row.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]),
      [...RESULT_SEVERITY],
    );
  });

  it('gives every key also when the run could not start', () => {
    const failed = jsonFailure('no cluster');
    assert.deepEqual(Object.keys(failed), [...JSON_KEYS]);
    assert.equal(failed.result, 'failed');
    assert.equal(failed.failure, 'no cluster');
  });

  it('prints package.json’s version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal(version, pkg.version);
    const out = spawnSync(process.execPath, ['src/cli.ts', '--version'], { encoding: 'utf8' });
    assert.equal(out.status, EXIT_CODES.ok);
    assert.equal(out.stdout, `statefulset-canary ${pkg.version}\n`);
  });

  it('releases the files that .krew.yaml and docs/cli.md name', () => {
    const release = readFileSync('.github/workflows/release.yml', 'utf8');
    const sea = readFileSync('scripts/sea.ts', 'utf8');
    const assets = ['statefulset-canary-linux-x64', 'statefulset-canary-linux-x64.tar.gz'];
    for (const asset of assets) {
      assert.ok(
        release.includes(`build/sea/${asset} build/sea/${asset}.sha256`),
        `release.yml attaches ${asset}`,
      );
      assert.ok(page.includes(asset), `docs/cli.md names ${asset}`);
    }
    assert.match(sea, /const name = 'statefulset-canary-linux-x64';/);
    const krewUri = /releases\/download\/\{\{ \.TagName \}\}\/([^"]+)"/.exec(
      readFileSync('.krew.yaml', 'utf8'),
    );
    assert.equal(krewUri?.[1], 'statefulset-canary-linux-x64.tar.gz');
  });
});
