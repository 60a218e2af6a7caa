// Every file of the repository that the project's own files name (a script a test runs, a page a
// message links to, a file a comment points at) is tracked by git, not only present on disk. A
// file that a .gitignore pattern hides works on the machine that wrote it and is missing from
// every clone: stop 31's CI failed on `bash test/cluster/build/build-krew.sh` exiting 127,
// because `build/` in .gitignore also matched test/cluster/build/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const git = (...args: string[]): string[] =>
  execFileSync('git', args, { encoding: 'utf8' }).split('\n').filter(Boolean);

/** Paths under the project's own folders, as they are written in code, scripts and docs. */
const pathPattern =
  /(?<![\w./-])(?:test|scripts|src|bin|bench|docs|examples|\.ci|\.github)\/[\w./-]+\.(?:sh|ts|go|md|ya?ml|json|mjs|js)\b/g;

/**
 * Files whose mentions are not checked: RESULTS.md and CHANGELOG.md name files as they were when
 * a figure or a release was made, the link test and this one name paths that must not exist, and
 * package-lock.json names the bin/ files of dependencies.
 */
const exempt = new Set([
  'bench/RESULTS.md',
  'CHANGELOG.md',
  'test/unit/docs-links.test.ts',
  'test/unit/tracked-paths.test.ts',
  'package-lock.json',
]);

/** Files git tracks that name a path git does not track, each with the paths it names. */
function untrackedMentions(
  tracked: readonly string[],
  read: (file: string) => string,
): Map<string, string[]> {
  const known = new Set(tracked);
  const found = new Map<string, string[]>();
  for (const file of tracked) {
    if (exempt.has(file) || file.startsWith('dist/') || !/\.(?:ts|sh|md|ya?ml|json)$|^\.ci\//.test(file))
      continue;
    const missing = [...new Set(read(file).match(pathPattern) ?? [])].filter((path) => !known.has(path));
    if (missing.length > 0) found.set(file, missing);
  }
  return found;
}

describe('the files the project names', () => {
  it('are all tracked by git, so a fresh clone has them', () => {
    const tracked = git('ls-files');
    const found = untrackedMentions(tracked, (file) => readFileSync(file, 'utf8'));
    const ignored = [...new Set([...found.values()].flat())].filter((path) => {
      try {
        return git('check-ignore', '--no-index', path).length > 0;
      } catch {
        return false;
      }
    });
    assert.deepEqual(
      Object.fromEntries(found),
      {},
      `these files name paths that git does not track${ignored.length > 0 ? ` (${ignored.join(', ')} matched by .gitignore: narrow the pattern)` : ''}; git add them or fix the mention`,
    );
  });

  it('finds a mention of an untracked path, and ignores a tracked one', () => {
    const files: Record<string, string> = {
      'test/a.test.ts': "execFileSync('bash', ['test/cluster/build/build-x.sh']); // and src/main.ts",
      'src/main.ts': '',
      'bench/RESULTS.md': 'src/gone.ts',
    };
    const found = untrackedMentions(Object.keys(files), (file) => files[file] as string);
    assert.deepEqual(Object.fromEntries(found), { 'test/a.test.ts': ['test/cluster/build/build-x.sh'] });
  });
});
