// .ci/smoke-node26 imports test/fixtures/smoke/osv and scans test/fixtures/smoke/rootfs with the built CLI on
// Node 26. This runs the same steps on the development Node so a broken fixture shows up here first.
import assert from 'node:assert/strict';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { findingLines, lading, parseReport } from './e2e-helpers.js';

const SMOKE = new URL('../fixtures/smoke/', import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = lstatSync(path);
    assert.ok(!stat.isSymbolicLink(), `${path}: the smoke fixture is copied into a scratch folder, so no symlinks`);
    return stat.isDirectory() ? filesUnder(path) : [path];
  });
}

describe('smoke fixtures', () => {
  it('import and scan as .ci/smoke-node26 does, finding DSA-5532-1 on both openssl binaries', async (t) => {
    assert.equal(filesUnder(SMOKE).filter((f) => f.endsWith('/osv/DSA-5532-1.json')).length, 1);
    const env = { LADING_DB_DIR: await tempDir(t) };
    await lading(['db', 'import', `${SMOKE}osv`], 0, env);
    const report = parseReport((await lading(['scan', `dir:${SMOKE}rootfs`, '-o', 'json'], 0, env)).stdout);
    assert.deepEqual(
      report.packages.map((p) => p.name),
      ['libssl3', 'openssl', 'zlib1g'],
    );
    assert.deepEqual(findingLines(report.findings), [
      'CVE-2023-5363 libssl3 3.0.11-1~deb12u1 HIGH fixed 3.0.11-1~deb12u2',
      'CVE-2023-5363 openssl 3.0.11-1~deb12u1 HIGH fixed 3.0.11-1~deb12u2',
    ]);
  });
});
