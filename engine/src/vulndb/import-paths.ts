import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { type ScanWarning, scanWarning } from '../model/warning.js';
import { decodeRecord } from './codec.js';
import { isDumpFileName } from './coverage.js';
import { looksLikeEpss, readEpss } from './epss.js';
import { looksLikeKev, parseKev } from './kev.js';
import { RecordImporter } from './record-importer.js';
import { checkSchemaVersion } from './schema.js';
import type { PackageKey } from './store.js';
import { type EcosystemState, openDatabase, wrapDbError } from './store.js';
import type { VulnStoreWriter, WriteTransaction } from './writer.js';
import { MAX_ENTRY_BYTES, readZipEntries, zipEntryRefused } from './zip-entries.js';

export interface ImportSummary {
  records: number;
  skipped: number;
  ecosystems: string[];
  kev?: number;
  epss?: number;
  warnings: ScanWarning[];
  /** Packages whose advisories the import added, modified or removed (see WriteTransaction), sorted. */
  changedPackages: PackageKey[];
}

const RECORD_FILE = /\.(json|ya?ml)$/i;

/**
 * `lading db import PATH...` for air-gapped hosts: zip dumps, folders of OSV JSON/YAML, single records, the
 * CISA KEV catalog and EPSS CSVs. All paths go in one transaction: a corrupt zip leaves the store as it was.
 */
export async function importPaths(store: VulnStoreWriter, paths: string[], now: Date): Promise<ImportSummary> {
  const summary: ImportSummary = { records: 0, skipped: 0, ecosystems: [], warnings: [], changedPackages: [] };
  const { parse } = await import('yaml');
  const parseYaml = (text: string): unknown => parse(text, { maxAliasCount: 100 });
  const importer = await store.transaction(async (tx) => {
    const importer = new RecordImporter(tx, { parseYaml });
    const found: Found = { dumps: new Set(), copied: new Map(), files: 0 };
    for (const path of paths) await importPath(tx, importer, path, summary, now, found);
    if (importer.imported === 0 && summary.kev === undefined && summary.epss === undefined) {
      throw nothingImported(paths, importer, found);
    }
    for (const source of importer.sources) {
      tx.recount(source);
      const previous = tx.ecosystem(source)?.highWater;
      const newest = tx.newestModified(source);
      const highWater = previous && newest && previous > newest ? previous : newest;
      const copied = found.copied.get(source);
      tx.setEcosystemState(source, {
        // a copy of another store keeps that store's dates: its data is as old as it was there
        updatedAt: copied?.updatedAt ?? now.toISOString(),
        origin: copied?.origin ?? `import:${paths.join(',')}`,
        ...(highWater ? { highWater } : {}),
        // a whole dump covers every release of its ecosystem (coverage.ts)
        ...(found.dumps.has(source) ? { fullAt: copied?.fullAt ?? now.toISOString() } : {}),
      });
    }
    summary.changedPackages = tx.changedPackages();
    return importer;
  });
  summary.records = importer.imported;
  summary.skipped = importer.skipped;
  summary.ecosystems = [...importer.sources].sort();
  for (const warning of importer.warnings) summary.warnings.push(warning);
  return summary;
}

/** What `db import` met besides records, to mark whole dumps and to say why nothing was imported. */
interface Found {
  /** Ecosystems whose whole dump was imported (a zip named like OSV's `all.zip`, or a copy of such a store). */
  dumps: Set<string>;
  /** Ecosystem states of Lading stores (`db export` files) copied. */
  copied: Map<string, EcosystemState>;
  /** Files looked at (record files in folders, zip entries). */
  files: number;
}

async function importPath(
  tx: WriteTransaction,
  importer: RecordImporter,
  path: string,
  summary: ImportSummary,
  now: Date,
  found: Found,
): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new LadingError('NOT_FOUND', `${path}: no such file or directory`);
  }
  // a named pipe or a device would block the first read, or never end: refused before any open
  if (!info.isDirectory() && !info.isFile()) {
    throw new LadingError('BAD_INPUT', `${path} is not a regular file or a folder`);
  }
  if (info.isDirectory()) {
    for (const file of await listRecordFiles(path)) {
      found.files++;
      const size = (await stat(file)).size;
      if (size > MAX_ENTRY_BYTES) importer.warn(file, `skipped: ${size} bytes is over the record size limit`);
      else importer.addDocument(file, await readFile(file));
    }
    return;
  }
  if (/\.zip$/i.test(path) || (await startsWith(path, 'PK\u0003\u0004'))) {
    const before = new Map(importer.perSource);
    for await (const entry of readZipEntries(path)) {
      found.files++;
      if (entry.corrupt) throw zipEntryRefused(path, entry);
      if (entry.error) importer.warn(`${path}!${entry.name}`, `skipped: ${entry.error}`);
      else if (entry.data && RECORD_FILE.test(entry.name)) importer.addDocument(`${path}!${entry.name}`, entry.data);
    }
    if (isDumpFileName(path)) {
      for (const [source, count] of importer.perSource) if (count > (before.get(source) ?? 0)) found.dumps.add(source);
    }
    return;
  }
  if (await startsWith(path, SQLITE_MAGIC)) {
    found.files++;
    copyStore(path, importer, found);
    return;
  }
  if (/\.csv(\.gz)?$/i.test(path) || (await looksLikeEpss(path))) {
    tx.clearEpss();
    const result = await readEpss(path, (row) => tx.putEpss(row.cve, row));
    tx.setMeta('epss.modelVersion', result.modelVersion ?? '');
    tx.setMeta('epss.scoreDate', result.scoreDate ?? '');
    tx.setMeta('epss.updatedAt', now.toISOString());
    if (result.skipped)
      summary.warnings.push(scanWarning('vulndb', `${result.skipped} malformed EPSS rows skipped`, path));
    summary.epss = result.rows;
    return;
  }
  if (info.size > 64 * 1024 * 1024)
    throw new LadingError('LIMIT', `${path}: ${info.size} bytes is too large for one document`);
  const data = await readFile(path);
  if (/\.json$/i.test(path)) {
    let value: unknown;
    try {
      value = JSON.parse(data.toString('utf8'));
    } catch (err) {
      importer.warn(path, `not valid JSON: ${thrownValueText(err)}`);
      return;
    }
    if (looksLikeKev(value)) {
      const kev = parseKev(value, path);
      summary.kev = tx.replaceKev(kev.entries, kev.catalogVersion, now);
      if (kev.skipped)
        summary.warnings.push(scanWarning('vulndb', `${kev.skipped} KEV entries without a CVE id skipped`, path));
      return;
    }
    importer.addValue(path, value);
    return;
  }
  importer.addDocument(path, data);
}

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/**
 * Copies the records of a Lading store (a `db export` file, or another folder's vulndb.sqlite) through the writer,
 * so every derived row is rebuilt the way this version builds it. The file is opened read-only and must be ours:
 * the tables Lading writes and a schema version this Lading reads.
 */
function copyStore(path: string, importer: RecordImporter, found: Found): void {
  // SQLite opens even a read-only database with its -shm/-wal files beside it: read a private copy, so an import
  // never writes next to the user's file (which may be on a read-only medium) and the file cannot change under us.
  const scratch = mkdtempSync(join(tmpdir(), 'lading-import-'));
  try {
    const copy = join(scratch, 'import.sqlite');
    copyFileSync(path, copy);
    readStoreCopy(path, copy, importer, found);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function readStoreCopy(path: string, copy: string, importer: RecordImporter, found: Found): void {
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(copy, true);
  } catch (err) {
    // the reason, after the path the message starts with
    const reason = thrownValueText(err).replace(`${copy}: `, '');
    throw new LadingError('BAD_INPUT', `nothing imported from ${path}: ${reason}`, { cause: err });
  }
  try {
    const version = checkSchemaVersion(db, path);
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    if (version === 0 || !tables.has('records') || !tables.has('ecosystems')) {
      throw new LadingError(
        'BAD_INPUT',
        `nothing imported from ${path}: an SQLite file, but not a Lading vulnerability database`,
      );
    }
    const states = db.prepare('SELECT name, updated_at, full_at, origin FROM ecosystems').all() as {
      name: string;
      updated_at: string | null;
      full_at: string | null;
      origin: string | null;
    }[];
    const rows = db.prepare('SELECT source, data FROM records').iterate() as Iterable<{
      source: string;
      data: Uint8Array;
    }>;
    for (const row of rows) {
      let record: unknown;
      try {
        record = decodeRecord(row.data);
      } catch (err) {
        importer.warn(path, `skipped a damaged record: ${thrownValueText(err)}`);
        continue;
      }
      importer.addValue(`${path}:${row.source}`, record, row.source);
    }
    for (const state of states) {
      const copied: EcosystemState = { name: state.name, records: 0 };
      if (state.updated_at) copied.updatedAt = state.updated_at;
      if (state.full_at) copied.fullAt = state.full_at;
      copied.origin = `import:${path}${state.origin ? ` (from ${state.origin})` : ''}`;
      found.copied.set(state.name, copied);
      if (state.full_at) found.dumps.add(state.name);
    }
  } catch (err) {
    throw wrapDbError(err, path);
  } finally {
    db.close();
  }
}

/** Exit 3 with the reason: an import that brought nothing is a mistake the user must see. */
function nothingImported(paths: string[], importer: RecordImporter, found: Found): LadingError {
  const reason =
    importer.warnings[0]?.message ??
    (found.files === 0
      ? 'no OSV records (.json, .yaml, .zip), KEV catalog, EPSS CSV or Lading database found'
      : 'no OSV records in it');
  return new LadingError('BAD_INPUT', `nothing imported from ${paths.join(', ')}: ${reason}`);
}

async function listRecordFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      for (const path of await listRecordFiles(full)) out.push(path);
    } else if (entry.isFile() && RECORD_FILE.test(entry.name)) out.push(full);
  }
  return out.sort();
}

async function startsWith(path: string, magic: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(magic.length);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('latin1') === magic;
  } finally {
    await handle.close();
  }
}
