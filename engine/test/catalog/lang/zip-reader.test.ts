import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { listEntries, readEntry, ZipFormatError } from '../../../src/catalog/lang/zip-reader.js';
import { buildZip } from './zip-writer.js';

describe('zip reader', () => {
  it('reads stored and deflated entries', () => {
    const zip = buildZip([
      { name: 'a.txt', data: 'hello' },
      { name: 'b.bin', data: Buffer.alloc(1000, 7), store: true },
    ]);
    const entries = listEntries(zip);
    assert.deepEqual(
      entries.map((e) => [e.name, e.size]),
      [
        ['a.txt', 5],
        ['b.bin', 1000],
      ],
    );
    const budget = { remaining: 2000 };
    assert.equal(readEntry(zip, entries[0] as never, budget).toString(), 'hello');
    assert.equal(readEntry(zip, entries[1] as never, budget).length, 1000);
    assert.equal(budget.remaining, 995);
    assert.throws(() => readEntry(zip, entries[1] as never, budget), /inflate limit/);
  });

  it('rejects forged directories with a ZipFormatError, never another error or a hang (fast-check)', () => {
    const zip = buildZip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' }]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: zip.length - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 12 }),
        (flips) => {
          const copy = Buffer.from(zip);
          for (const [at, v] of flips) copy[at] = v;
          try {
            for (const e of listEntries(copy)) readEntry(copy, e, { remaining: 1 << 20 });
          } catch (err) {
            assert.ok(err instanceof ZipFormatError, String(err));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
