// A cataloger that fails, skips records or loses a file to the walk's caps leaves a coverage gap, so that a gate
// never passes on a report that only looks cleaner because something was not read.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Cataloger } from '../../src/catalog/cataloger.js';
import { osCatalogers } from '../../src/catalog/os/index.js';
import { runCatalogers } from '../../src/catalog/run.js';
import { tooLargeWarning } from '../../src/image/walk/layer-scan.js';
import { scanWarning } from '../../src/model/warning.js';
import { decideGates } from '../../src/policy/gate.js';
import { buildReport } from '../../src/report/build.js';
import { wantedFiles } from '../helpers/wanted-files.js';

const APK = readFileSync(new URL('../fixtures/catalog/os/apk/syft-multiple-2-installed', import.meta.url));

function throwing(error: unknown): Cataloger {
  return {
    id: 'broken',
    version: 1,
    wants: () => true,
    catalog: async () => {
      throw error;
    },
  };
}

describe('catalog coverage gaps', () => {
  it('a clean database leaves no gap', async () => {
    const inventory = await runCatalogers(wantedFiles({ '/lib/apk/db/installed': APK }), osCatalogers);
    assert.equal(inventory.gaps, undefined);
  });

  it('a cataloger that throws is a gap of its id, whatever it threw', async () => {
    const files = wantedFiles({ '/lib/apk/db/installed': APK });
    const inventory = await runCatalogers(files, [...osCatalogers, throwing(new RangeError('Maximum call stack'))]);
    assert.equal(inventory.packages.length, 14, 'the other catalogers still count');
    assert.deepEqual(inventory.gaps, [
      { kind: 'catalog-incomplete', scope: 'broken', message: 'cataloger failed: Maximum call stack' },
    ]);
    const odd = await runCatalogers(files, [throwing({ code: 7 })]);
    assert.equal(odd.gaps?.[0]?.message, 'cataloger failed: {"code":7}', 'never [object Object]');
  });

  it('skipped records make one gap per file, counted; duplicates are notes, not gaps', async () => {
    const junk = Array.from({ length: 1000 }, (_, i) => `P:junk${i}\n\n`).join('');
    const duplicate = 'P:musl\nV:1.2.3-r0\n\n';
    const db = Buffer.concat([APK, Buffer.from(`\n${duplicate}${junk}`)]);
    const inventory = await runCatalogers(wantedFiles({ '/lib/apk/db/installed': db }), osCatalogers);
    assert.equal(inventory.packages.length, 14);
    assert.equal(inventory.gaps?.length, 1);
    const gap = inventory.gaps?.[0];
    assert.equal(gap?.scope, 'apk');
    assert.equal(gap?.path, '/lib/apk/db/installed');
    assert.match(gap?.message ?? '', /junk0 has no V: line; skipped \(and 999 more\)$/);
    assert.ok(inventory.warnings.some((w) => /duplicate record for musl; first kept/.test(w.message)));
  });

  it("the walk's skipped files are gaps of the cataloger that wanted them; other walk warnings are not", async () => {
    const walk = [
      tooLargeWarning('/lib/apk/db/installed', 999, 10),
      scanWarning('image', 'unreadable: EACCES', '/app/package.json'),
      scanWarning('image', 'dropped: symlink points outside the image root', '/var/lib/dpkg/status'),
    ];
    const inventory = await runCatalogers(new Map(), osCatalogers, undefined, walk);
    assert.deepEqual(inventory.warnings, walk, "the walk's warnings come first, unchanged");
    assert.deepEqual(
      inventory.gaps?.map((g) => `${g.scope} ${g.path}`),
      ['apk /lib/apk/db/installed', 'image /app/package.json'],
    );
  });

  it('a report with a catalog gap fails every gate, even one with nothing to fail on', async () => {
    const inventory = await runCatalogers(wantedFiles({ '/lib/apk/db/installed': APK }), [throwing(new Error('x'))]);
    const report = buildReport({
      target: { kind: 'rootfs', ref: 'dir:/', layers: [] },
      inventory,
      findings: [],
      warnings: [],
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    assert.equal(report.coverage?.complete, false);
    const verdict = decideGates(report, { baselineSeverity: 'HIGH' });
    assert.equal(verdict.pass, false);
    assert.deepEqual(verdict.reasons, ['not checked: broken: cataloger failed: x']);
  });
});
