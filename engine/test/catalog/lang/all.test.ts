import assert from 'node:assert/strict';
import { chmod, cp, lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { languageCatalogers } from '../../../src/catalog/lang/index.js';
import { runCatalogers } from '../../../src/catalog/run.js';
import { selectorFor } from '../../../src/catalog/selector.js';
import type { WantedFile } from '../../../src/image/file.js';
import { ENGINE_ROOT, REPO_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/tmp.js';

const FIXTURES = join(ENGINE_ROOT, 'test/fixtures/catalog/lang');
const LEFTHOOK = join(REPO_ROOT, 'node_modules/lefthook-linux-x64/bin/lefthook');

/** Walks a folder the way the image walk does: the union selector decides what is kept and who condenses it. */
async function walk(root: string): Promise<Map<string, WantedFile>> {
  const selector = selectorFor(languageCatalogers);
  const files = new Map<string, WantedFile>();
  async function visit(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        await visit(full);
        continue;
      }
      const path = `/${posix.relative(root, full)}`;
      const st = await lstat(full);
      const meta = { size: st.size, mode: st.mode & 0o7777, type: 'file' as const };
      if (!selector.wants(path, meta)) continue;
      const kept = selector.condense(path, await readFile(full));
      if (kept) files.set(path, { path, layer: 'sha256:layer', meta, ...kept });
    }
  }
  await visit(root);
  return files;
}

describe('language catalogers together', () => {
  it('catalog a mixed root through the walk selector, condensed and each package once', async (t) => {
    const root = await tempDir(t);
    for (const eco of ['npm', 'python', 'ruby', 'php', 'dotnet'])
      await cp(join(FIXTURES, eco), root, { recursive: true });
    await cp(join(FIXTURES, 'java'), join(root, 'opt/java'), { recursive: true });
    await cp(LEFTHOOK, join(root, 'usr/local/bin/lefthook'));
    await chmod(join(root, 'opt/java/oro-2.0.8.jar'), 0o755); // executable jars must still go to the java cataloger
    const files = await walk(root);
    const lefthook = files.get('/usr/local/bin/lefthook');
    assert.equal(lefthook?.condensedBy, 'binary');
    assert.ok((lefthook?.content.length ?? Infinity) < 16 * 1024);
    assert.equal(files.get('/opt/java/oro-2.0.8.jar')?.condensedBy, 'java-archive');
    const kept = [...files.values()].reduce((n, f) => n + f.content.length, 0);
    assert.ok(kept < 200 * 1024, `kept ${kept} bytes`);

    const inventory = await runCatalogers(files, languageCatalogers);
    assert.deepEqual(inventory.warnings, []);
    const types = new Map<string, number>();
    for (const p of inventory.packages) types.set(p.type, (types.get(p.type) ?? 0) + 1);
    assert.deepEqual([...types.keys()].sort(), ['composer', 'gem', 'golang', 'maven', 'npm', 'nuget', 'pypi']);
    assert.equal(types.get('maven'), 3);
    assert.equal(types.get('npm'), 10);
    assert.equal(types.get('pypi'), 8);
    const ids = new Set(inventory.packages.map((p) => p.id));
    assert.equal(ids.size, inventory.packages.length);
    for (const p of inventory.packages) {
      assert.equal(p.locations[0]?.layer, 'sha256:layer');
      assert.match(p.purl, new RegExp(`^pkg:${p.type}/`));
    }
  });
});
