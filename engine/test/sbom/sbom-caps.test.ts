import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import { MAX_SBOM_COMPONENTS, readSbomFile } from '../../src/sbom/read.js';
import { tempDir } from '../helpers/tmp.js';

function cyclonedx(components: number): string {
  const list = Array.from(
    { length: components },
    (_, i) => `{"type":"library","name":"p${i}","purl":"pkg:npm/p${i}@1"}`,
  );
  return `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[${list.join(',')}]}`;
}

describe('SBOM caps', () => {
  it('more components than the cap is a LIMIT error, not an inventory of a million packages', async (t) => {
    const dir = await tempDir(t);
    const over = join(dir, 'over.json');
    await writeFile(over, cyclonedx(MAX_SBOM_COMPONENTS + 1));
    await assert.rejects(readSbomFile(over), (err) => {
      assert.ok(isLadingError(err), String(err));
      assert.equal(err.code, 'LIMIT');
      assert.equal(err.message, `cannot read sbom:${over}: more than 200000 components`);
      return true;
    });
    const small = join(dir, 'small.json');
    await writeFile(small, cyclonedx(3));
    assert.equal((await readSbomFile(small)).inventory.packages.length, 3);
  });
});
