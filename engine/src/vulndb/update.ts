import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { downloadToFile, fetchBytes } from '../http/download.js';
import { type ScanWarning, scanWarning } from '../model/warning.js';
import { readEpss } from './epss.js';
import { parseKev } from './kev.js';
import { baseEcosystem, ecosystemPath } from './names.js';
import { neededByScans } from './needed.js';
import { RecordImporter } from './record-importer.js';
import type { SourceUrls } from './sources.js';
import type { PackageKey, StoreConnection } from './store.js';
import { mergePackageKeys, type VulnStoreWriter } from './writer.js';
import { readZipEntries, zipEntryRefused } from './zip-entries.js';

export interface UpdateOptions {
  /** Ecosystems named on the command line; the store's "needed" ones are added (unless `exactly`). */
  ecosystems: string[];
  /** Update the named ecosystems alone (a scan fetching what it needs), not every one the store holds. */
  exactly?: boolean;
  sources: SourceUrls;
  now: Date;
  /** Download all.zip even when an incremental update would do. */
  full?: boolean;
  /** Skip KEV and EPSS. */
  skipEnrichment?: boolean;
  progress?: (message: string) => void;
  /** Folder for temporary downloads (the db dir: same filesystem, cleaned up). */
  tempDir: string;
  /** Stops the downloads (LadingError ABORTED); a transaction under way rolls back. */
  signal?: AbortSignal;
}

export interface EcosystemUpdate {
  ecosystem: string;
  mode: 'full' | 'incremental' | 'not-modified';
  records: number;
  changed: number;
  /** Packages of this ecosystem's dump whose advisories were added, modified or removed, sorted. */
  changedPackages: PackageKey[];
}

export interface UpdateSummary {
  ecosystems: EcosystemUpdate[];
  kev?: number;
  epss?: number;
  warnings: ScanWarning[];
  /**
   * Every package whose advisories this update added, modified or removed (all ecosystems), sorted: what a
   * server that keeps results should match again. KEV and EPSS refreshes are not in it (they touch findings of
   * any package: `kev`/`epss` say they were refreshed).
   */
  changedPackages: PackageKey[];
}

/** Past this many changed records, one all.zip is cheaper than that many single GETs. */
const MAX_INCREMENTAL = 5000;
/** Full refresh this often, to pick up deletions the modified list cannot tell. */
const FULL_REFRESH_MS = 7 * 24 * 3600 * 1000;
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const MAX_CSV_BYTES = 256 * 1024 * 1024;
const FETCH_CONCURRENCY = 8;

/** Which ecosystems `db update` refreshes: those named, those it holds data for and those earlier scans needed. */
export function ecosystemsToUpdate(store: StoreConnection, named: string[], exactly = false): string[] {
  const wanted = new Set(named.map(baseEcosystem));
  if (!exactly) {
    for (const state of store.ecosystems()) if (state.records > 0) wanted.add(state.name);
    for (const name of Object.keys(neededByScans(store))) wanted.add(name);
  }
  wanted.delete('[EMPTY]');
  if (wanted.size === 0) {
    throw new LadingError(
      'USAGE',
      'no ecosystems to update: name some with the ecosystems option (e.g. Debian, npm) or run a scan first',
      { option: 'ecosystems' },
    );
  }
  return [...wanted].sort();
}

export async function updateStore(store: VulnStoreWriter, options: UpdateOptions): Promise<UpdateSummary> {
  const summary: UpdateSummary = { ecosystems: [], warnings: [], changedPackages: [] };
  for (const ecosystem of ecosystemsToUpdate(store, options.ecosystems, options.exactly === true)) {
    options.progress?.(`updating ${ecosystem}`);
    summary.ecosystems.push(await updateEcosystem(store, ecosystem, options, summary.warnings));
  }
  summary.changedPackages = mergePackageKeys(summary.ecosystems.map((e) => e.changedPackages));
  if (!options.skipEnrichment) await updateEnrichment(store, options, summary);
  return summary;
}

async function updateEcosystem(
  store: VulnStoreWriter,
  ecosystem: string,
  options: UpdateOptions,
  warnings: ScanWarning[],
): Promise<EcosystemUpdate> {
  const state = store.ecosystem(ecosystem);
  const fullDue = !state?.fullAt || options.now.getTime() - Date.parse(state.fullAt) > FULL_REFRESH_MS;
  if (options.full || !state?.records || !state.highWater || fullDue) {
    return fullUpdate(store, ecosystem, options, warnings);
  }
  const changed = await changedSince(ecosystem, state.highWater, options);
  if (changed === 'too-many') return fullUpdate(store, ecosystem, options, warnings);
  return applyChanges(store, ecosystem, changed, options, warnings);
}

async function fullUpdate(
  store: VulnStoreWriter,
  ecosystem: string,
  options: UpdateOptions,
  warnings: ScanWarning[],
): Promise<EcosystemUpdate> {
  const url = `${options.sources.osvBase}/${ecosystemPath(ecosystem)}/all.zip`;
  const state = store.ecosystem(ecosystem);
  const tmp = join(options.tempDir, `.download-${randomBytes(6).toString('hex')}.zip`);
  try {
    // Validators only make sense when the data they describe is still here.
    const validators = state?.records ? { etag: state.etag, lastModified: state.lastModified } : {};
    const result = await downloadToFile(url, tmp, { validators: clean(validators), ...signalOf(options) });
    if (result.status === 'not-found') throw new LadingError('NOT_FOUND', `${url}: no such ecosystem at the source`);
    if (result.status === 'not-modified') {
      await store.transaction((tx) =>
        tx.setEcosystemState(ecosystem, { updatedAt: options.now.toISOString(), fullAt: options.now.toISOString() }),
      );
      return { ecosystem, mode: 'not-modified', records: state?.records ?? 0, changed: 0, changedPackages: [] };
    }
    options.progress?.(`importing ${ecosystem} (${result.bytes} bytes)`);
    return await store.transaction(async (tx) => {
      const importer = new RecordImporter(tx, { source: ecosystem, fresh: true });
      tx.clearSource(ecosystem);
      for await (const entry of readZipEntries(tmp, { label: url })) {
        // A damaged download is refused whole: the previous data of the ecosystem stays.
        if (entry.corrupt) throw zipEntryRefused(url, entry);
        if (entry.error) importer.warn(`${url}!${entry.name}`, `skipped: ${entry.error}`);
        else if (entry.data && /\.json$/i.test(entry.name)) importer.addDocument(`${url}!${entry.name}`, entry.data);
      }
      const records = tx.recount(ecosystem);
      const newest = tx.newestModified(ecosystem);
      tx.setEcosystemState(ecosystem, {
        updatedAt: options.now.toISOString(),
        fullAt: options.now.toISOString(),
        origin: url,
        etag: result.etag,
        lastModified: result.lastModified,
        highWater: newest,
      });
      const changedPackages = tx.changedPackages();
      for (const warning of importer.warnings) warnings.push(warning);
      return { ecosystem, mode: 'full' as const, records, changed: importer.imported, changedPackages };
    });
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Ids modified at or after the watermark, from the newest-first `modified_id.csv`. */
async function changedSince(
  ecosystem: string,
  highWater: string,
  options: UpdateOptions,
): Promise<string[] | 'too-many'> {
  const url = `${options.sources.osvBase}/${ecosystemPath(ecosystem)}/modified_id.csv`;
  const csv = await fetchBytes(url, MAX_CSV_BYTES, signalOf(options));
  if (!csv) return 'too-many';
  const ids: string[] = [];
  const watermark = Date.parse(highWater);
  for (const line of csv.toString('utf8').split('\n')) {
    const comma = line.indexOf(',');
    if (comma === -1) continue;
    const modified = Date.parse(line.slice(0, comma));
    if (!Number.isFinite(modified)) continue;
    // Rows with the watermark's own time are fetched again: others may share that second.
    if (modified < watermark) break;
    const id = line.slice(comma + 1).trim();
    // The root-level list prefixes the ecosystem (`PyPI/PYSEC-…`); the per-ecosystem one does not.
    const bare = id.includes('/') ? id.slice(id.lastIndexOf('/') + 1) : id;
    if (/^[A-Za-z0-9._:-]+$/.test(bare)) ids.push(bare);
    if (ids.length > MAX_INCREMENTAL) return 'too-many';
  }
  return [...new Set(ids)];
}

async function applyChanges(
  store: VulnStoreWriter,
  ecosystem: string,
  ids: string[],
  options: UpdateOptions,
  warnings: ScanWarning[],
): Promise<EcosystemUpdate> {
  // Everything is downloaded before the transaction starts: a network failure changes nothing.
  const fetched = new Map<string, Buffer | undefined>();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const url = `${options.sources.osvBase}/${ecosystemPath(ecosystem)}/${encodeURIComponent(id)}.json`;
      fetched.set(id, await fetchBytes(url, MAX_RECORD_BYTES, signalOf(options)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, ids.length) }, worker));
  return store.transaction((tx) => {
    const importer = new RecordImporter(tx, { source: ecosystem });
    for (const id of ids) {
      const data = fetched.get(id);
      // Listed but gone: kept until the next full refresh reconciles deletions (a 404 may also be a lagging mirror).
      if (!data) importer.warn(`${ecosystem}/${id}.json`, 'listed in modified_id.csv but not found; kept as it was');
      else importer.addDocument(`${ecosystem}/${id}.json`, data);
    }
    const records = tx.recount(ecosystem);
    const previous = tx.ecosystem(ecosystem)?.highWater;
    const newest = tx.newestModified(ecosystem);
    tx.setEcosystemState(ecosystem, {
      updatedAt: options.now.toISOString(),
      highWater: previous && newest && previous > newest ? previous : newest,
    });
    const changedPackages = tx.changedPackages();
    for (const warning of importer.warnings) warnings.push(warning);
    return { ecosystem, mode: 'incremental' as const, records, changed: importer.imported, changedPackages };
  });
}

/** KEV and EPSS are extras: a failure is a warning, the OSV data already committed stays. */
async function updateEnrichment(store: VulnStoreWriter, options: UpdateOptions, summary: UpdateSummary): Promise<void> {
  const kevUrl = options.sources.kev;
  try {
    options.progress?.('updating CISA KEV');
    const data = await fetchBytes(kevUrl, 64 * 1024 * 1024, signalOf(options));
    if (!data) throw new LadingError('NOT_FOUND', 'not found (HTTP 404)');
    const kev = parseKev(JSON.parse(data.toString('utf8')), kevUrl);
    summary.kev = await store.transaction((tx) => tx.replaceKev(kev.entries, kev.catalogVersion, options.now));
  } catch (err) {
    if (options.signal?.aborted) throw err;
    summary.warnings.push(scanWarning('vulndb', `KEV not updated: ${messageOf(err)}`, kevUrl));
  }
  const epssUrl = options.sources.epss;
  const tmp = join(options.tempDir, `.download-${randomBytes(6).toString('hex')}.csv`);
  try {
    options.progress?.('updating EPSS');
    const validators = clean({ etag: store.meta('epss.etag') });
    const result = await downloadToFile(epssUrl, tmp, {
      validators: store.count('epss') ? validators : {},
      ...signalOf(options),
    });
    if (result.status === 'not-found') throw new LadingError('NOT_FOUND', 'not found (HTTP 404)');
    if (result.status === 'ok') {
      summary.epss = await store.transaction(async (tx) => {
        tx.clearEpss();
        const read = await readEpss(tmp, (row) => tx.putEpss(row.cve, row));
        tx.setMeta('epss.modelVersion', read.modelVersion ?? '');
        tx.setMeta('epss.scoreDate', read.scoreDate ?? '');
        tx.setMeta('epss.updatedAt', options.now.toISOString());
        tx.setMeta('epss.etag', result.etag ?? '');
        return read.rows;
      });
    }
  } catch (err) {
    if (options.signal?.aborted) throw err;
    summary.warnings.push(scanWarning('vulndb', `EPSS not updated: ${messageOf(err)}`, epssUrl));
  } finally {
    await rm(tmp, { force: true });
  }
}

function signalOf(options: UpdateOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function clean<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as never;
}

function messageOf(err: unknown): string {
  return thrownValueText(err);
}
