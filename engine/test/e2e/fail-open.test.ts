// Fail-open, tried as an attacker would: padding a package database or a hidden lockfile with 150k junk entries
// once overflowed the stack inside a cataloger (a spread of the whole list into push), the cataloger's packages
// vanished with one warning, and `--fail-on medium -q` passed with exit 0. Now the real packages are still found,
// what was skipped is a coverage gap, and the gate fails either way. The inputs are made here, not kept in git.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importedDb, lading, parseReport, ROOTFS, removeDir } from './e2e-helpers.js';

const JUNK = 150_000;

describe('a cataloger that fails never makes an image look cleaner', () => {
  let dbDir = '';
  let work = '';
  before(async () => {
    dbDir = await importedDb();
    work = await mkdtemp(join(tmpdir(), 'lading-fail-open-'));
  });
  after(async () => {
    await removeDir(dbDir);
    await removeDir(work);
  });

  it('an apk database with 150k junk records after the real ones still fails --fail-on medium -q', async () => {
    const root = join(work, 'apk');
    cpSync(ROOTFS.alpineA, root, { recursive: true });
    const junk: string[] = [];
    for (let i = 0; i < JUNK; i++) junk.push(`P:junk${i}\n\n`);
    appendFileSync(join(root, 'lib/apk/db/installed'), junk.join(''));

    const md = join(work, 'apk.md');
    const r = await lading(
      ['scan', `dir:${root}`, '--db-dir', dbDir, '--fail-on', 'medium', '-q', '-o', 'json', '-o', `markdown=${md}`],
      1,
    );
    const report = parseReport(r.stdout);
    assert.match(readFileSync(md, 'utf8'), /NOT CHECKED: apk \/lib\/apk\/db\/installed: line \d+: package junk0/);
    assert.ok(
      report.packages.some((p) => p.name === 'libssl1.1' && p.version === '1.1.1q-r0'),
      'the real packages are still listed',
    );
    assert.ok(report.findings.some((f) => f.package.name === 'libssl1.1'));
    const gaps = report.coverage?.gaps ?? [];
    assert.equal(gaps.length, 1);
    assert.deepEqual(
      [gaps[0]?.kind, gaps[0]?.scope, gaps[0]?.path],
      ['catalog-incomplete', 'apk', '/lib/apk/db/installed'],
    );
    assert.match(gaps[0]?.message ?? '', /\(and 149999 more\)$/);
    assert.equal(report.gate?.pass, false);
    assert.match(r.stderr, /not checked: apk \/lib\/apk\/db\/installed/, 'said even with -q');
  });

  it('a hidden npm lockfile with 150k entries: lodash among the first is found, the rest past the cap is a gap', async () => {
    const root = join(work, 'npm');
    mkdirSync(join(root, 'app/node_modules'), { recursive: true });
    const packages: Record<string, { version: string }> = { 'node_modules/lodash': { version: '4.17.20' } };
    for (let i = 0; i < JUNK; i++) packages[`node_modules/pad-${i}`] = { version: '1.0.0' };
    writeFileSync(
      join(root, 'app/node_modules/.package-lock.json'),
      JSON.stringify({ name: 'app', lockfileVersion: 3, packages }),
    );

    const r = await lading(['scan', `dir:${root}`, '--db-dir', dbDir, '--fail-on', 'medium', '-q', '-o', 'json'], 1);
    const report = parseReport(r.stdout);
    // 100,000 packages per file at most (CatalogLimits.maxPackagesPerFile): the rest is never silently dropped.
    assert.equal(report.summary.packages, 100_000);
    assert.ok(report.findings.some((f) => f.package.name === 'lodash' && f.package.version === '4.17.20'));
    const gaps = report.coverage?.gaps ?? [];
    assert.deepEqual(
      gaps.map((g) => [g.kind, g.scope, g.path, g.message]),
      [
        [
          'catalog-incomplete',
          'npm',
          '/app/node_modules/.package-lock.json',
          'more than 100000 packages in one file: only the first 100000 were read',
        ],
      ],
    );
    assert.equal(report.gate?.pass, false);
  });
});
