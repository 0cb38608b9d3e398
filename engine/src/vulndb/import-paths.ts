import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LadingError } from '../errors/lading-error.js';
import { type ScanWarning, scanWarning } from '../model/warning.js';
import { looksLikeEpss, readEpss } from './epss.js';
import { looksLikeKev, parseKev } from './kev.js';
import { RecordImporter } from './record-importer.js';
import type { PackageKey } from './store.js';
import type { VulnStoreWriter, WriteTransaction } from './writer.js';
import { MAX_ENTRY_BYTES, readZipEntries } from './zip-entries.js';

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
    for (const path of paths) await importPath(tx, importer, path, summary, now);
    for (const source of importer.sources) {
      tx.recount(source);
      const previous = tx.ecosystem(source)?.highWater;
      const newest = tx.newestModified(source);
      const highWater = previous && newest && previous > newest ? previous : newest;
      tx.setEcosystemState(source, {
        updatedAt: now.toISOString(),
        origin: `import:${paths.join(',')}`,
        ...(highWater ? { highWater } : {}),
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

async function importPath(
  tx: WriteTransaction,
  importer: RecordImporter,
  path: string,
  summary: ImportSummary,
  now: Date,
): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new LadingError('NOT_FOUND', `${path}: no such file or directory`);
  }
  if (info.isDirectory()) {
    for (const file of await listRecordFiles(path)) {
      const size = (await stat(file)).size;
      if (size > MAX_ENTRY_BYTES) importer.warn(file, `skipped: ${size} bytes is over the record size limit`);
      else importer.addDocument(file, await readFile(file));
    }
    return;
  }
  if (/\.zip$/i.test(path) || (await startsWith(path, 'PK\u0003\u0004'))) {
    for await (const entry of readZipEntries(path)) {
      if (entry.error) importer.warn(`${path}!${entry.name}`, `skipped: ${entry.error}`);
      else if (entry.data && RECORD_FILE.test(entry.name)) importer.addDocument(`${path}!${entry.name}`, entry.data);
    }
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
      importer.warn(path, `not valid JSON: ${(err as Error).message}`);
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
