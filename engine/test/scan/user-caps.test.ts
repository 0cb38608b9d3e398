import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { npmCataloger } from '../../src/catalog/lang/npm/cataloger.js';
import { selectorFor } from '../../src/catalog/selector.js';
import { openTarget } from '../../src/image/open.js';
import { scan } from '../../src/scan/scan.js';
import { tempDir } from '../helpers/tmp.js';

const MIB = 1024 * 1024;

describe('caps the caller chose win', () => {
  test('a package.json over the maxFileBytes given is skipped with a warning, though its cataloger condenses', async (t) => {
    const root = await tempDir(t);
    const dir = join(root, 'app/node_modules/big');
    await mkdir(dir, { recursive: true });
    const manifest = { name: 'big', version: '1.0.0', description: 'x'.repeat(2 * MIB) };
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
    const base = { sbomOnly: true, dbDir: join(root, 'db'), now: new Date('2026-01-01T00:00:00Z') };
    // under the default caps the file is condensed (read, the description dropped) and cataloged
    const unbounded = await scan(`dir:${root}`, base);
    assert.ok(unbounded.packages.some((p) => p.name === 'big'));
    const capped = await scan(`dir:${root}`, { ...base, limits: { maxFileBytes: MIB } });
    assert.ok(!capped.packages.some((p) => p.name === 'big'));
    assert.ok(
      capped.warnings.some(
        (w) => w.path === '/app/node_modules/big/package.json' && /over the 1048576-byte file limit/.test(w.message),
      ),
      JSON.stringify(capped.warnings),
    );
  });
});

describe('documents parsed whole are never condensed past the file cap', () => {
  test('a package.json over maxFileBytes is skipped, even with room under the condense cap', async (t) => {
    const root = await tempDir(t);
    const dir = join(root, 'app/node_modules/big');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'big', version: '1.0.0', readme: 'x'.repeat(2 * MIB) }),
    );
    const opened = await openTarget(`dir:${root}`);
    try {
      const walk = await opened.walk(selectorFor([npmCataloger]), { maxFileBytes: MIB, maxCondenseBytes: 512 * MIB });
      assert.equal(walk.files.size, 0);
      assert.match(walk.warnings.map((w) => w.message).join('\n'), /over the 1048576-byte file limit/);
    } finally {
      await opened.close();
    }
  });
});
