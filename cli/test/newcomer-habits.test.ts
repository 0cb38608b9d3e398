import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, runCli } from '../../engine/test/helpers/cli.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';
import { formatFlagHint } from '../src/main.js';

// What someone coming from Trivy or Grype types first: `--format json`, `lading version`.

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'cli/package.json'), 'utf8')) as { version: string };

describe("Trivy's --format / -f", () => {
  it('is an unknown option whose one line says "did you mean -o FORMAT?", exit 2', async () => {
    const [long, short, joined] = await Promise.all([
      runCli(['scan', 'dir:/nonexistent', '--format', 'json']),
      runCli(['sbom', 'dir:/nonexistent', '-f', 'cyclonedx']),
      runCli(['scan', 'dir:/nonexistent', '--format=sarif']),
    ]);
    for (const r of [long, short, joined]) {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal(long.stderr, "lading: unknown option '--format' (did you mean -o json?)\n");
    assert.equal(short.stderr, "lading: unknown option '-f' (did you mean -o cyclonedx-json?)\n");
    assert.equal(joined.stderr, "lading: unknown option '--format=sarif' (did you mean -o sarif?)\n");
  });

  it("names -o FORMAT when the format is not one of Lading's, and leaves other unknown options alone", () => {
    assert.equal(
      formatFlagHint("error: unknown option '-f'", ['scan', 'x', '-f', 'template']),
      ' (did you mean -o FORMAT?)',
    );
    assert.equal(
      formatFlagHint("error: unknown option '--format'", ['scan', 'x', '--format']),
      ' (did you mean -o FORMAT?)',
    );
    assert.equal(formatFlagHint("error: unknown option '--formats'", ['scan', 'x', '--formats', 'json']), '');
    assert.equal(formatFlagHint("error: unknown option '--no-such-flag'", ['--no-such-flag']), '');
  });
});

describe('scan --summary', () => {
  it('shows the summary line and one line per vulnerable package of the example image', async (t) => {
    const dbDir = await tempDir(t);
    await runCli(['db', 'import', join(REPO_ROOT, 'examples/osv'), '--db-dir', dbDir]);
    const r = await runCli([
      'scan',
      join(REPO_ROOT, 'examples/debian-12.tar'),
      '--db-dir',
      dbDir,
      '--offline',
      '--summary',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^lodash@4\.17\.20 \(npm\)\s+HIGH\s+1 high, 1 medium\s+2 of 2$/m);
    assert.match(r.stdout, /^libssl3@3\.0\.11-1~deb12u1 \(deb\)\s+HIGH\s+1 high\s+1 of 1$/m);
    assert.doesNotMatch(r.stdout, /CVE-/);
  });
});

describe('lading version', () => {
  it('prints the version, the runtime and "no vulnerability data" for an empty database folder', async (t) => {
    const dbDir = await tempDir(t);
    const r = await runCli(['version'], { env: { LADING_DB_DIR: dbDir } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `Version: ${pkg.version}\nRuntime: Node.js ${process.version} (${process.platform}/${process.arch})\n` +
        `Vulnerability data: ${dbDir}\n  no vulnerability data (run \`lading db update\`, or \`lading db import\` for files)\n`,
    );
    const json = JSON.parse((await runCli(['version', '--json', '--db-dir', dbDir])).stdout);
    assert.deepEqual(json, {
      version: pkg.version,
      runtime: { node: process.version, platform: process.platform, arch: process.arch },
      vulnerabilityData: { dbDir, state: 'none' },
    });
  });

  it('lists each ecosystem held with its record count, newest record and last update', async (t) => {
    const dbDir = await tempDir(t);
    const imported = await runCli(['db', 'import', join(REPO_ROOT, 'examples/osv'), '--db-dir', dbDir]);
    assert.equal(imported.code, 0, imported.stderr);
    const r = await runCli(['version', '--db-dir', dbDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}npm: 2 records, newest record 2023-09-05T22:58:25Z, last update \d{4}-\d\d-\d\dT/m);
    assert.match(r.stdout, /^ {2}Debian: 2 records, newest record \S+, last update /m);
    const json = JSON.parse((await runCli(['version', '--json', '--db-dir', dbDir])).stdout);
    assert.equal(json.vulnerabilityData.state, 'present');
    assert.deepEqual(
      json.vulnerabilityData.status.ecosystems.map((e: { ecosystem: string; records: number }) => [
        e.ecosystem,
        e.records,
      ]),
      [
        ['Debian', 2],
        ['npm', 2],
      ],
    );
  });

  it('still prints when the database cannot be read, and --version stays the bare version', async (t) => {
    const dbDir = await tempDir(t);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dbDir, 'vulndb.sqlite'), 'not a database');
    const r = await runCli(['version', '--db-dir', dbDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Version: /);
    assert.match(r.stdout, /^ {2}unreadable: /m);
    const bare = await runCli(['--version']);
    assert.equal(bare.stdout, `${pkg.version}\n`);
    const compare = await runCli(['version', 'compare', 'Debian', '1.0-1', '1.0-2']);
    assert.equal(compare.stdout, '-1\n');
  });
});
