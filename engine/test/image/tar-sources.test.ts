import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { LadingError } from '../../src/errors/lading-error.js';
import { type ByteSource, FileRangeSource, StreamByteSource } from '../../src/image/tar/byte-source.js';
import { TarReader } from '../../src/image/tar/tar-reader.js';
import { entryPath } from '../../src/image/walk/paths.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

/** Sizes on both sides of the header block, the after-seek window and the sequential window. */
const SIZES = [0, 1, 511, 512, 513, 8191, 8192, 8193, 65535, 65536, 65537, 200_003];

function contentOf(i: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  for (let j = 0; j < size; j++) buf[j] = (i * 31 + j * 7) & 0xff;
  return buf;
}

/** A pax-format tar from GNU tar: per-entry pax records (long names, mtimes), directories, a symlink. */
async function makeTar(dir: string): Promise<{ file: string; contents: Map<string, Buffer> }> {
  const root = join(dir, 'root');
  const deep = `${'d'.repeat(120)}/${'e'.repeat(90)}`;
  await mkdir(join(root, deep), { recursive: true });
  const contents = new Map<string, Buffer>();
  for (const [i, size] of SIZES.entries()) {
    const name = i % 3 === 0 ? `${deep}/f${i}` : `f${i}`;
    const content = contentOf(i, size);
    await writeFile(join(root, name), content);
    contents.set(name, content);
  }
  const file = join(dir, 'layer.tar');
  await run('tar', ['--format=posix', '--sort=name', '-C', root, '-cf', file, '.']);
  return { file, contents };
}

interface Seen {
  name: string;
  type: string;
  size: number;
  content?: string;
}

async function readAll(src: ByteSource, read: (index: number) => boolean): Promise<Seen[]> {
  const reader = new TarReader(src, { maxEntryBytes: 1 << 30 });
  const out: Seen[] = [];
  try {
    let i = 0;
    for (let e = await reader.next(); e; e = await reader.next()) {
      const seen: Seen = { name: e.name, type: e.type, size: e.size };
      if (e.type === 'file' && read(i)) seen.content = (await reader.content(e)).toString('base64');
      out.push(seen);
      i++;
    }
    return out;
  } finally {
    await src.close();
  }
}

describe('tar sources', () => {
  test('a local file (no-wait reads, kept content) and a stream read the same entries and bytes', async (t) => {
    const dir = await tempDir(t);
    const { file, contents } = await makeTar(dir);
    const size = (await stat(file)).size;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), async (picks) => {
        const pick = (i: number) => picks[i % picks.length] as boolean;
        const fromFile = await readAll(await FileRangeSource.open(file, 0, size), pick);
        const fromStream = await readAll(new StreamByteSource(createReadStream(file, { highWaterMark: 4096 })), pick);
        assert.deepEqual(fromFile, fromStream);
        for (const seen of fromFile) {
          if (seen.content === undefined) continue;
          const expected = contents.get(seen.name.replace(/^\.\//, ''));
          assert.ok(expected, seen.name);
          assert.equal(seen.content, expected.toString('base64'), seen.name);
        }
      }),
      { numRuns: 15 },
    );
  });

  test('a cut archive fails the same clear way from a file and from a stream', async (t) => {
    const dir = await tempDir(t);
    const { file } = await makeTar(dir);
    const size = (await stat(file)).size;
    for (const cut of [700, 9000, 70_000, Math.floor(size / 2)]) {
      const errors: string[] = [];
      for (const src of [
        await FileRangeSource.open(file, 0, cut),
        new StreamByteSource(createReadStream(file, { start: 0, end: cut - 1 })),
      ]) {
        const err = await readAll(src, () => true).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof LadingError, `cut at ${cut}: ${String(err)}`);
        errors.push(err.message);
      }
      assert.equal(errors[0], errors[1]);
    }
  });
});

/** The plain rule: drop empty and `.` segments, resolve `..`, refuse to climb above the root. */
function referencePath(name: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return 'ESCAPES';
      parts.pop();
    } else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

describe('entry paths', () => {
  test('clean names take the short way to the same path as the full resolution', () => {
    const segment = fc.constantFrom('', '.', '..', '...', 'a', '.a', 'b.', 'usr', '.wh.x');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.boolean(), (segments, lead) => {
        const name = (lead ? './' : '') + segments.join('/');
        let actual: string;
        try {
          actual = entryPath(name);
        } catch (e) {
          assert.ok(e instanceof LadingError);
          actual = 'ESCAPES';
        }
        assert.equal(actual, referencePath(name), JSON.stringify(name));
      }),
      { numRuns: 3000 },
    );
  });
});
