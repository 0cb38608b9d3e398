import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { matchVulnerabilities } from '../../src/match/find-vulnerabilities.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { OsvRecord } from '../../src/model/osv.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { VulnStoreReader } from '../../src/vulndb/reader.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { buildZip } from '../helpers/zip-writer.js';
import { pkg } from '../match/inventory-helpers.js';

const READER = fileURLToPath(new URL('./concurrent-reader.ts', import.meta.url));
const READERS = 3;
const TARGETS = 30;
/** Enough records that the writer's transaction stays open for a few seconds after the target changes. */
const FILLER = 15_000;

function record(id: string, name: string, modified: string, extra: Partial<OsvRecord> = {}): OsvRecord {
  return {
    id,
    modified,
    upstream: [],
    details: `synthetic advisory ${id} for ${name}`,
    affected: [
      {
        package: { ecosystem: 'Debian:12', name },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0-1' }] }],
      },
    ],
    ...extra,
  };
}

function zipOf(records: OsvRecord[]): Buffer {
  return buildZip(records.map((r) => ({ name: `${r.id}.json`, data: JSON.stringify(r) })));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const oldIds = range(TARGETS).map((i) => `OLD-${1000 + i}`);
const newIds = range(TARGETS).map((i) => `NEW-${1000 + i}`);

interface Reader {
  child: ChildProcessWithoutNullStreams;
  lines: { at: number; text: string }[];
  exited: Promise<number | null>;
}

function startReader(dbDir: string): Reader {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', READER, dbDir, [...oldIds].sort().join(','), [...newIds].sort().join(',')],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines: Reader['lines'] = [];
  let carry = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (carry + chunk).split('\n');
    carry = parts.pop() ?? '';
    for (const text of parts) lines.push({ at: Date.now(), text });
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, lines, exited };
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('vulnerability store under concurrent readers', () => {
  it('scans in other processes see the old data or the new, never a mix, while `db import` writes', async (t) => {
    const dir = await tempDir(t);
    const dbDir = join(dir, 'db');
    const before = join(dir, 'before.zip');
    const update = join(dir, 'update.zip');
    writeFileSync(before, zipOf(oldIds.map((id) => record(id, 'targetpkg', '2025-01-01T00:00:00Z'))));
    // The update withdraws every old advisory, adds new ones, then brings many unrelated records: a reader that
    // mixed two states (candidates before the commit, record text after it) would see neither set.
    writeFileSync(
      update,
      zipOf([
        ...oldIds.map((id) => record(id, 'targetpkg', '2025-06-01T00:00:00Z', { withdrawn: '2025-06-01T00:00:00Z' })),
        ...newIds.map((id) => record(id, 'targetpkg', '2025-06-01T00:00:00Z')),
        ...range(FILLER).map((i) => record(`FILL-${i}`, `filler${i % 3000}`, '2025-06-01T00:00:00Z')),
      ]),
    );
    const store = VulnStoreWriter.open(dbDir);
    await importPaths(store, [before], new Date());
    store.close();

    const readers = range(READERS).map(() => startReader(dbDir));
    t.after(() => {
      for (const r of readers) r.child.kill();
    });
    await until(() => readers.every((r) => r.lines.length > 0), 60_000, 'the readers to start');

    const writerStart = Date.now();
    const written = await runCli(['db', 'import', update, '--db-dir', dbDir], { timeoutMs: 80_000 });
    const writerEnd = Date.now();
    assert.equal(written.code, 0, written.stderr);
    await until(() => readers.every((r) => r.lines.at(-1)?.text === 'B'), 20_000, 'the readers to see the update');
    for (const r of readers) r.child.stdin.end();
    const codes = await Promise.all(readers.map((r) => r.exited));

    for (const [i, r] of readers.entries()) {
      assert.equal(codes[i], 0, `reader ${i} exit`);
      const texts = r.lines.map((l) => l.text);
      const bad = texts.filter((x) => x !== 'A' && x !== 'B');
      assert.deepEqual(bad, [], `reader ${i} saw only whole states`);
      // once the new data is visible it stays visible: each scan reads one committed state
      const firstB = texts.indexOf('B');
      assert.ok(firstB > 0, `reader ${i} saw the old data first`);
      assert.ok(!texts.slice(firstB).includes('A'), `reader ${i} never went back to the old data`);
      const during = r.lines.filter((l) => l.at > writerStart && l.at < writerEnd).length;
      assert.ok(during >= 3, `reader ${i} scanned ${during} times while the import ran`);
    }
  });

  it('a scan reads one committed state even when an update commits between two of its queries', async (t) => {
    const dbDir = await tempDir(t);
    const before = join(dbDir, 'before.zip');
    writeFileSync(before, zipOf(oldIds.map((id) => record(id, 'targetpkg', '2025-01-01T00:00:00Z'))));
    const writer = VulnStoreWriter.open(dbDir);
    t.after(() => writer.close());
    await importPaths(writer, [before], new Date());
    const reader = VulnStoreReader.open(dbDir)!;
    t.after(() => reader.close());
    const seen = reader.snapshot(() => {
      const candidates = reader.candidatesFor('Debian:12', 'targetpkg');
      // the update commits after the candidates were read and before their text is
      writer.transaction((tx) => {
        for (const id of oldIds) {
          tx.putRecord('Debian', record(id, 'targetpkg', '2025-06-01T00:00:00Z', { withdrawn: '2025-06-01' }));
        }
      });
      return candidates.map((c) => c.record().id).sort();
    });
    assert.deepEqual(seen, [...oldIds].sort());
    const later = VulnStoreReader.open(dbDir)!;
    t.after(() => later.close());
    assert.deepEqual(later.candidatesFor('Debian:12', 'targetpkg'), []);
    // the same reader, kept open: its memo of the old candidates is dropped, not served
    assert.deepEqual(
      reader.snapshot(() => reader.candidatesFor('Debian:12', 'targetpkg')),
      [],
    );
  });

  it('a reader kept open serves what another process committed since, never its memo of the old state', async (t) => {
    const dir = await tempDir(t);
    const dbDir = join(dir, 'db');
    const before = join(dir, 'before.zip');
    const update = join(dir, 'update.zip');
    writeFileSync(before, zipOf(oldIds.map((id) => record(id, 'targetpkg', '2025-01-01T00:00:00Z'))));
    writeFileSync(
      update,
      zipOf([
        ...oldIds.map((id) => record(id, 'targetpkg', '2025-06-01T00:00:00Z', { withdrawn: '2025-06-01T00:00:00Z' })),
        ...newIds.map((id) => record(id, 'targetpkg', '2025-06-01T00:00:00Z')),
      ]),
    );
    const writer = VulnStoreWriter.open(dbDir);
    await importPaths(writer, [before], new Date());
    writer.close();

    const reader = VulnStoreReader.open(dbDir)!;
    t.after(() => reader.close());
    const inventory: Inventory = {
      os: { family: 'debian', version: '12', ecosystem: 'Debian:12' },
      warnings: [],
      packages: [pkg('deb', 'targetpkg', '1.0-1')],
    };
    const ids = () =>
      matchVulnerabilities(inventory, reader, { now: new Date() })
        .findings.map((f) => f.advisory.id)
        .sort();
    assert.deepEqual(ids(), [...oldIds].sort());
    // memoised reads outside a snapshot, too
    assert.equal(reader.candidatesFor('Debian:12', 'targetpkg').length, TARGETS);

    const written = await runCli(['db', 'import', update, '--db-dir', dbDir]);
    assert.equal(written.code, 0, written.stderr);

    assert.deepEqual(ids(), [...newIds].sort());
    assert.deepEqual(
      reader
        .candidatesFor('Debian:12', 'targetpkg')
        .map((c) => c.id)
        .sort(),
      [...newIds].sort(),
    );
  });
});
