// scripts/changelog-section.ts: the release notes a tag's GitHub release gets.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ChangelogError, changelogSection, normalizeVersion } from '../../scripts/changelog-section.ts';

const root = join(import.meta.dirname, '../..');

const sample = `# Changelog

Intro text.

## [Unreleased]

### Changed

- Something not released yet.

## [1.2.0] - 2026-12-01

### Added

- A new input \`foo\`:

\`\`\`yaml
## not a heading: inside a code block
\`\`\`

### Fixed

- A bug.

## [1.1.0] - 2026-11-30

### Fixed

- An older bug.

## 1.0.0

First release.

[Unreleased]: https://example.com/compare/v1.2.0...HEAD
[1.2.0]: https://example.com/releases/tag/v1.2.0
`;

describe('changelogSection', () => {
  it('extracts a section up to the next version heading, code blocks included', () => {
    assert.equal(
      changelogSection(sample, '1.2.0'),
      [
        '### Added',
        '',
        '- A new input `foo`:',
        '',
        '```yaml',
        '## not a heading: inside a code block',
        '```',
        '',
        '### Fixed',
        '',
        '- A bug.',
      ].join('\n'),
    );
  });

  it('accepts the tag form of the version', () => {
    assert.equal(changelogSection(sample, 'v1.1.0'), '### Fixed\n\n- An older bug.');
  });

  it('reads a bare `## 1.0.0` heading and leaves out the closing link definitions', () => {
    assert.equal(changelogSection(sample, '1.0.0'), 'First release.');
  });

  it('reads CRLF line endings', () => {
    assert.equal(changelogSection(sample.replaceAll('\n', '\r\n'), '1.1.0'), '### Fixed\n\n- An older bug.');
  });

  it('matches the version exactly, not a pre-release of it', () => {
    const changelog = '## [1.0.0-rc.1] - 2026-11-01\n\n- Candidate.\n\n## [1.0.0] - 2026-12-01\n\n- Final.\n';
    assert.equal(changelogSection(changelog, '1.0.0'), '- Final.');
    assert.equal(changelogSection(changelog, '1.0.0-rc.1'), '- Candidate.');
    assert.throws(() => changelogSection(sample, '1.2'), /"1\.2" is not a version/);
  });

  it('names the missing version and the sections there are', () => {
    assert.throws(() => changelogSection(sample, '0.9.0'), {
      name: 'ChangelogError',
      message:
        'CHANGELOG.md has no section for 0.9.0 (expected a heading "## [0.9.0] - YYYY-MM-DD"; ' +
        'sections: Unreleased, 1.2.0, 1.1.0, 1.0.0)',
    });
  });

  it('refuses an empty section', () => {
    assert.throws(
      () => changelogSection('## [2.0.0] - 2026-12-02\n\n## [1.0.0] - 2026-12-01\n\n- x\n', '2.0.0'),
      { name: 'ChangelogError', message: 'the CHANGELOG.md section for 2.0.0 is empty' },
    );
  });

  it('refuses what is not a version', () => {
    for (const text of ['', 'latest', 'v0', '0.1', '0.1.0.1', 'Unreleased'])
      assert.throws(() => normalizeVersion(text), ChangelogError, JSON.stringify(text));
    assert.equal(normalizeVersion(' v0.1.0 '), '0.1.0');
    assert.equal(normalizeVersion('1.0.0-rc.1'), '1.0.0-rc.1');
  });
});

describe('CHANGELOG.md', () => {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');

  it(`has a section for package.json's version (${version})`, () => {
    assert.match(
      changelogSection(changelog, version),
      /^### (Added|Changed|Fixed|Removed|Deprecated|Security)$/m,
    );
  });
});

describe('node scripts/changelog-section.ts', () => {
  const run = promisify(execFile);
  const script = join(root, 'scripts/changelog-section.ts');

  it("prints the section of the repository's CHANGELOG.md", async () => {
    const { stdout } = await run(process.execPath, [script, 'v0.1.0']);
    const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
    assert.equal(stdout, `${changelogSection(changelog, '0.1.0')}\n`);
  });

  it('fails with exit code 1 and the reason for a missing version', async () => {
    await assert.rejects(run(process.execPath, [script, '99.0.0']), (error: unknown) => {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      assert.equal(code, 1);
      assert.equal(stdout, '');
      assert.match(stderr, /^changelog-section: CHANGELOG\.md has no section for 99\.0\.0 \(/);
      return true;
    });
  });

  it('fails with exit code 2 and the usage without a version', async () => {
    await assert.rejects(run(process.execPath, [script]), { code: 2, stderr: /^usage: / });
  });
});
