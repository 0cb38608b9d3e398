// Files over the walk's size cap that a condensing cataloger wants (Go binaries such as kubelet are > 64 MiB) are
// still read and condensed; only the condensed bytes are kept. And `condense` sees the file's real metadata.
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/catalog/cataloger.js';
import { binaryCataloger } from '../../src/catalog/lang/binary/cataloger.js';
import { selectorFor as catalogSelector } from '../../src/catalog/selector.js';
import type { FileMeta, WantedFiles } from '../../src/image/file.js';
import { type FileSelector, openTarget } from '../../src/image/open.js';
import { buildImage } from '../helpers/images.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const MIB = 1024 * 1024;
const LIMITS = { maxFileBytes: 64 * MIB };
/** A real Go binary (its build info names github.com/evilmartians/lefthook/v2), padded past the cap below. */
const GO_BINARY = join(REPO_ROOT, 'node_modules/lefthook-linux-x64/bin/lefthook');
const BIG_SIZE = 65 * MIB;

async function walkWith(spec: string, selector: FileSelector, limits: typeof LIMITS & { maxCondenseBytes?: number }) {
  const opened = await openTarget(spec);
  try {
    return await opened.walk(selector, limits);
  } finally {
    await opened.close();
  }
}

async function bigGoBinary(): Promise<Buffer> {
  const go = await readFile(GO_BINARY);
  const big = Buffer.alloc(BIG_SIZE);
  go.copy(big);
  return big;
}

async function assertCondensedGo(files: WantedFiles) {
  const kept = files.get('/usr/local/bin/kubelet-like');
  assert.ok(kept, 'the oversized Go binary was kept');
  assert.equal(kept.condensedBy, 'binary');
  assert.ok(kept.content.length < 1 * MIB, `only condensed bytes kept (${kept.content.length})`);
  const result = await binaryCataloger.catalog(files, { limits: DEFAULT_LIMITS });
  const names = result.packages.map((p) => p.name);
  assert.ok(names.includes('github.com/evilmartians/lefthook/v2'), `go main module found in ${names.join(', ')}`);
}

describe('oversized files that a cataloger condenses', () => {
  test('dir: a sparse 65 MiB ELF with Go build info is read and condensed, not skipped', async (t) => {
    const root = await tempDir(t);
    const bin = join(root, 'usr/local/bin');
    await mkdir(bin, { recursive: true });
    const path = join(bin, 'kubelet-like');
    await writeFile(path, await readFile(GO_BINARY));
    await truncate(path, BIG_SIZE); // sparse tail: the build info stays where the ELF headers say
    await chmod(path, 0o755);
    const w = await walkWith(`dir:${root}`, catalogSelector([binaryCataloger]), LIMITS);
    assert.deepEqual(
      w.warnings.filter((x) => x.path === '/usr/local/bin/kubelet-like'),
      [],
      'no size warning',
    );
    await assertCondensedGo(w.files);
  });

  test('docker-archive (seekable) and gzip OCI layout (streamed) condense it too', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/usr/local/bin/kubelet-like', content: await bigGoBinary(), mode: 0o755 }]],
      compression: 'gzip',
    });
    for (const spec of [`docker-archive:${built.dockerArchive}`, `oci:${built.ociDir}`]) {
      const w = await walkWith(spec, catalogSelector([binaryCataloger]), LIMITS);
      await assertCondensedGo(w.files);
    }
  });

  test('over maxCondenseBytes, or wanted raw, an oversized file is still skipped with a warning', async (t) => {
    const dir = await tempDir(t);
    const big = await bigGoBinary();
    const built = await buildImage(dir, {
      layers: [
        [
          { type: 'file', path: '/usr/local/bin/kubelet-like', content: big, mode: 0o755 },
          { type: 'file', path: '/var/lib/big.db', content: big.subarray(0, 2 * MIB), mode: 0o644 },
        ],
      ],
      compression: 'none',
    });
    const spec = `docker-archive:${built.dockerArchive}`;
    const capped = await walkWith(spec, catalogSelector([binaryCataloger]), { ...LIMITS, maxCondenseBytes: 64 * MIB });
    assert.equal(capped.files.size, 0);
    assert.match(capped.warnings[0]?.message ?? '', /skipped: 68157440 bytes is over the 67108864-byte file limit/);

    // A selector that keeps files raw (no condenser) gets nothing over the cap, whatever it wants.
    const raw: FileSelector = {
      wants: () => true,
      condense: (_p, content) => ({ content }),
      condenses: () => false,
      wantsHistory: () => false,
    };
    const small = await walkWith(spec, raw, { maxFileBytes: 1 * MIB });
    assert.deepEqual([...small.files.keys()], []);
    assert.equal(small.warnings.length, 2);
  });

  test('condense receives the file metadata from the walk (mode, size, type)', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [
        [
          { type: 'file', path: '/usr/bin/tool', content: 'ELF?', mode: 0o755 },
          { type: 'file', path: '/usr/share/doc/x/copyright', content: 'Copyright: me\n', mode: 0o644 },
          { type: 'symlink', path: '/usr/bin/tool-link', target: 'tool' },
        ],
      ],
    });
    const seen = new Map<string, FileMeta | undefined>();
    const selector: FileSelector = {
      wants: () => true,
      condense: (path, content, meta) => {
        seen.set(path, meta);
        return { content };
      },
      wantsHistory: () => false,
    };
    for (const spec of [`docker-archive:${built.dockerArchive}`, `oci:${built.ociDir}`]) {
      seen.clear();
      await walkWith(spec, selector, LIMITS);
      assert.deepEqual(seen.get('/usr/bin/tool'), { size: 4, mode: 0o755, type: 'file' });
      assert.deepEqual(seen.get('/usr/share/doc/x/copyright'), { size: 14, mode: 0o644, type: 'file' });
      assert.deepEqual(seen.get('/usr/bin/tool-link'), {
        size: 4,
        mode: 0o755,
        type: 'symlink',
        linkTarget: '/usr/bin/tool',
      });
    }
  });
});
