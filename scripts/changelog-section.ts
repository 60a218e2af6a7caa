// Prints the CHANGELOG.md section of one version, the release notes of its GitHub release:
//
//   node scripts/changelog-section.ts 0.1.0 > notes.md      (a leading v is accepted: v0.1.0)
//
// The section is what lies under the version's `## [0.1.0] - YYYY-MM-DD` heading (Keep a
// Changelog; `## 0.1.0` also works) up to the next `## ` heading, without the link reference
// definitions that close the file. Exit code 1, with the reason on stderr, when the version
// has no section or an empty one.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export class ChangelogError extends Error {
  override name = 'ChangelogError';
}

const versionPattern = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** `0.1.0` from `0.1.0` or `v0.1.0`; a ChangelogError for anything that is not a version. */
export function normalizeVersion(text: string): string {
  const version = text.trim().replace(/^v/, '');
  if (!versionPattern.test(version))
    throw new ChangelogError(`"${text}" is not a version (expected X.Y.Z or vX.Y.Z)`);
  return version;
}

/** The version a `## ` heading names: `## [0.1.0] - 2026-11-29` and `## 0.1.0` give `0.1.0`. */
function headingVersion(line: string): string | undefined {
  return /^##\s+\[?v?([^\]\s]+)\]?(?:\s+-\s+.*)?\s*$/.exec(line)?.[1];
}

/** The text of `version`'s section in a Keep a Changelog file, trimmed. */
export function changelogSection(changelog: string, versionText: string): string {
  const version = normalizeVersion(versionText);
  const lines = changelog.split(/\r?\n/);
  const section: string[] = [];
  let inSection = false;
  let found = false;
  let inFence = false;
  for (const line of lines) {
    const heading = !inFence && /^##\s/.test(line);
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (heading) {
      if (inSection) break;
      if (headingVersion(line) === version) {
        inSection = found = true;
        continue;
      }
    }
    if (inSection) section.push(line);
  }
  if (!found) {
    const known = lines.flatMap((line) => {
      const v = /^##\s/.test(line) ? headingVersion(line) : undefined;
      return v === undefined ? [] : [v];
    });
    throw new ChangelogError(
      `CHANGELOG.md has no section for ${version} (expected a heading "## [${version}] - YYYY-MM-DD"; ` +
        `sections: ${known.length > 0 ? known.join(', ') : 'none'})`,
    );
  }
  // Link reference definitions ([0.1.0]: https://...) belong to the whole file, not the notes.
  while (section.length > 0 && /^\s*(\[[^\]]+\]:\s+\S+.*)?$/.test(section.at(-1) ?? '')) section.pop();
  const text = section.join('\n').trim();
  if (text === '') throw new ChangelogError(`the CHANGELOG.md section for ${version} is empty`);
  return text;
}

if (import.meta.main) {
  const [versionArg, ...rest] = process.argv.slice(2);
  if (versionArg === undefined || rest.length > 0) {
    console.error('usage: node scripts/changelog-section.ts VERSION   (e.g. 0.1.0 or v0.1.0)');
    process.exit(2);
  }
  const path = resolve(import.meta.dirname, '..', 'CHANGELOG.md');
  try {
    process.stdout.write(`${changelogSection(readFileSync(path, 'utf8'), versionArg)}\n`);
  } catch (error) {
    if (!(error instanceof ChangelogError)) throw error;
    console.error(`changelog-section: ${error.message}`);
    process.exit(1);
  }
}
