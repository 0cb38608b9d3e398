import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OsvRecord } from '../../src/model/osv.js';
import { VulnStoreReader } from '../../src/vulndb/reader.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { tempDir } from '../helpers/tmp.js';

function record(id: string, name: string, modified = '2025-01-01T00:00:00Z'): OsvRecord {
  return {
    id,
    modified,
    affected: [
      {
        package: { ecosystem: 'npm', name },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }],
      },
    ],
  };
}

describe('vulnerability store: reader and writer', () => {
  it('transaction() commits on return and rolls back on throw, synchronous or async', async (t) => {
    const dir = await tempDir(t);
    const writer = VulnStoreWriter.open(dir);
    t.after(() => writer.close());
    const reader = VulnStoreReader.open(dir)!;
    t.after(() => reader.close());
    const ids = () => reader.candidatesFor('npm', 'left-pad').map((c) => c.id);

    const moved = writer.transaction((tx) => {
      tx.putRecord('npm', record('A-1', 'left-pad'));
      return tx.changedPackages();
    });
    assert.deepEqual(moved, [{ ecosystem: 'npm', name: 'left-pad' }]);
    assert.deepEqual(ids(), ['A-1']);

    assert.throws(
      () =>
        writer.transaction((tx) => {
          tx.putRecord('npm', record('A-2', 'left-pad'));
          throw new Error('boom');
        }),
      /boom/,
    );
    await assert.rejects(
      writer.transaction(async (tx) => {
        tx.putRecord('npm', record('A-3', 'left-pad'));
        await new Promise((r) => setTimeout(r, 10));
        throw new Error('late boom');
      }),
      /late boom/,
    );
    assert.deepEqual(ids(), ['A-1'], 'neither failed transaction left anything');

    // one at a time, and a transaction object is dead once its transaction ended
    let kept: Parameters<Parameters<VulnStoreWriter['transaction']>[0]>[0] | undefined;
    await writer.transaction(async (tx) => {
      kept = tx;
      assert.throws(() => writer.transaction(() => undefined), /already open/);
      tx.putRecord('npm', record('A-4', 'left-pad'));
    });
    assert.throws(() => kept!.putRecord('npm', record('A-5', 'left-pad')), /after it ended/);
    assert.deepEqual(ids().sort(), ['A-1', 'A-4']);
  });

  it('a reader drops its memos when another connection commits, and keeps them while nothing moved', async (t) => {
    const dir = await tempDir(t);
    const writer = VulnStoreWriter.open(dir);
    t.after(() => writer.close());
    writer.transaction((tx) => tx.putRecord('npm', record('B-1', 'lodash')));
    const reader = VulnStoreReader.open(dir)!;
    t.after(() => reader.close());

    const first = reader.snapshot(() => reader.candidatesFor('npm', 'lodash'));
    assert.strictEqual(
      reader.snapshot(() => reader.candidatesFor('npm', 'lodash')),
      first,
      'memoised',
    );
    assert.strictEqual(reader.candidatesFor('npm', 'lodash'), first, 'memoised outside a snapshot too');

    writer.transaction((tx) => tx.putRecord('npm', record('B-1', 'lodash', '2025-06-01T00:00:00Z')));
    const after = reader.snapshot(() => reader.candidatesFor('npm', 'lodash'));
    assert.notStrictEqual(after, first);
    assert.equal(
      reader.snapshot(() => after[0]!.record().modified),
      '2025-06-01T00:00:00Z',
    );
  });
});
