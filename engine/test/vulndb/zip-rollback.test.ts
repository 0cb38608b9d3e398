// A zip with a damaged entry imports nothing: the whole import rolls back and the command exits 3 naming the entry,
// instead of importing the readable part with exit 0.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { isLadingError } from '../../src/errors/lading-error.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { buildZip } from '../helpers/zip-writer.js';
import { FIXTURES, fixtureRecord } from './fixtures.js';

const NOW = new Date('2026-01-10T00:00:00Z');

/** Two good records, the second's compressed bytes then damaged (its CRC no longer matches). */
function zipWithDamagedSecondEntry(): Buffer {
  const first = { name: 'GO-2022-0969.json', data: JSON.stringify(fixtureRecord('Go', 'GO-2022-0969')) };
  const second = {
    name: 'GO-2022-0970.json',
    data: JSON.stringify({ ...fixtureRecord('Go', 'GO-2022-0969'), id: 'GO-2022-0970' }),
  };
  const zip = buildZip([first, second]);
  const firstLocal = 30 + first.name.length + deflateRawSync(Buffer.from(first.data)).length;
  const secondData = firstLocal + 30 + second.name.length;
  const packed = deflateRawSync(Buffer.from(second.data)).length;
  const at = secondData + Math.floor(packed / 2);
  zip[at] = (zip[at] ?? 0) ^ 0x55;
  return zip;
}

describe('db import of a zip with a damaged entry', () => {
  it('rolls back everything of the import, and says which entry', async (t) => {
    const dir = await tempDir(t);
    const zip = join(dir, 'dump.zip');
    await writeFile(zip, zipWithDamagedSecondEntry());
    const store = VulnStoreWriter.open(join(dir, 'db'));
    t.after(() => store.close());
    await importPaths(store, [join(FIXTURES, 'osv', 'npm')], NOW);
    await assert.rejects(importPaths(store, [join(FIXTURES, 'osv', 'PyPI'), zip], NOW), (err) => {
      assert.ok(isLadingError(err));
      assert.equal(err.code, 'BAD_INPUT');
      assert.equal(err.exitCode, 3);
      assert.match(err.message, new RegExp(`^${zip}!GO-2022-0970\\.json: .*; nothing imported$`));
      return true;
    });
    assert.deepEqual(
      store.ecosystems().map((e) => `${e.name}:${e.records}`),
      ['npm:1'],
      'neither the PyPI folder nor the readable first entry was kept',
    );
  });

  it('the CLI exits 3 with one line naming the entry', async (t) => {
    const dir = await tempDir(t);
    const zip = join(dir, 'dump.zip');
    await writeFile(zip, zipWithDamagedSecondEntry());
    const r = await runCli(['db', 'import', zip, '--db-dir', join(dir, 'db'), '-q']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr.trim(), /^lading: .*dump\.zip!GO-2022-0970\.json: .*; nothing imported$/);
    const status = await runCli(['db', 'status', '--db-dir', join(dir, 'db')]);
    assert.doesNotMatch(status.stdout, /Go/);
  });
});
