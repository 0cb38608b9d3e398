// Metadata-only catalogers (the image checks) in the walk selector: they keep files by path and mode without bytes,
// never stop another cataloger from condensing, and never hand the others a file kept only for them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Cataloger } from '../../src/catalog/cataloger.js';
import { binaryCataloger } from '../../src/catalog/lang/binary/cataloger.js';
import { runCatalogers } from '../../src/catalog/run.js';
import { selectorFor } from '../../src/catalog/selector.js';
import { imageCheckFilesCataloger } from '../../src/checks/files.js';
import type { FileMeta, RandomAccessFile, WantedFile } from '../../src/image/file.js';
import { REPO_ROOT } from '../helpers/paths.js';

const LEFTHOOK = join(REPO_ROOT, 'node_modules/lefthook-linux-x64/bin/lefthook');
const exe = (size: number, mode = 0o755): FileMeta => ({ size, mode, type: 'file' });
/** A file the selector must not read: any read fails the test. */
const unreadable: RandomAccessFile = {
  length: 1 << 20,
  at: () => assert.fail('read at an offset'),
  whole: () => assert.fail('read whole'),
};

describe('metadata-only catalogers in the selector', () => {
  const selector = selectorFor([binaryCataloger, imageCheckFilesCataloger]);

  it('a file only they want is kept empty, and never read where the walk can skip it', () => {
    const meta = { size: 5, mode: 0o4644, type: 'file' as const };
    assert.equal(selector.wants('/etc/data.txt', meta), true);
    assert.deepEqual(selector.condense('/etc/data.txt', Buffer.from('bytes'), meta), {
      content: Buffer.alloc(0),
      condensedBy: 'image-checks',
    });
    assert.equal(selector.condensesAt?.('/etc/data.txt', meta), true);
    assert.deepEqual(selector.condenseAt?.('/etc/data.txt', unreadable, meta), {
      content: Buffer.alloc(0),
      condensedBy: 'image-checks',
    });
    assert.equal(selector.wantsHistory('/etc/data.txt'), false);
  });

  it('another cataloger still condenses a file both want; what it drops is kept empty for the checks', () => {
    const raw = readFileSync(LEFTHOOK);
    const go = selector.condense('/usr/bin/sh', raw, exe(raw.length));
    assert.equal(go?.condensedBy, 'binary');
    assert.deepEqual(go?.content, binaryCataloger.condense?.('/usr/bin/sh', raw));
    const script = selector.condense('/usr/bin/sh', Buffer.from('#!x\n'), exe(4));
    assert.deepEqual(script, { content: Buffer.alloc(0), condensedBy: 'image-checks' });
    // Not wanted by the checks: dropped as before.
    assert.equal(selector.condense('/usr/bin/tool', Buffer.from('#!x\n'), exe(4)), null);
  });

  it('the other catalogers never see a file kept only for the checks; the checks see every file they want', async () => {
    const seen: string[] = [];
    const spy: Cataloger = {
      id: 'spy',
      version: 1,
      wants: (_path, meta) => meta.type === 'file',
      async catalog(files) {
        seen.push(...files.keys());
        return { packages: [], warnings: [] };
      },
    };
    const file = (path: string, mode: number, condensedBy?: string): [string, WantedFile] => [
      path,
      {
        path,
        meta: exe(0, mode),
        content: Buffer.alloc(0),
        layer: 'sha256:aa',
        ...(condensedBy ? { condensedBy } : {}),
      },
    ];
    const files = new Map([file('/usr/bin/su', 0o4755, 'image-checks'), file('/etc/os-release', 0o644)]);
    const inventory = await runCatalogers(files, [spy, imageCheckFilesCataloger]);
    assert.deepEqual(seen, ['/etc/os-release']);
    assert.deepEqual(inventory.notedFiles, [{ path: '/usr/bin/su', mode: 0o4755, layer: 'sha256:aa' }]);
  });
});
