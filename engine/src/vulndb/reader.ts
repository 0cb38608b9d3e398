import { existsSync } from 'node:fs';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import type { OsvAffected, OsvRecord } from '../model/osv.js';
import type { SqliteDatabase, SqliteStatement } from '../sqlite-driver.js';
import { decodeRecord } from './codec.js';
import { baseEcosystem, normalizePackageName, releaseKey } from './names.js';
import { checkSchemaVersion, OlderSchemaError, SCHEMA_VERSION } from './schema.js';
import {
  type AdvisoryCandidate,
  dbPath,
  type EpssScore,
  type KevEntry,
  openDatabase,
  StoreConnection,
  wrapDbError,
} from './store.js';

/** CVEs per EPSS query: well under SQLite's 32,766 bound parameters, few enough statements to cache. */
const EPSS_CHUNK = 500;

/** Memory maps the file for reads: thousands of lookups jump around it, and a mapped page costs no read syscall. */
const READ_MMAP_BYTES = 1 << 30;

/**
 * The local OSV store opened read-only: what scans and a long-lived server read. The file is WAL, so reads go on
 * while `lading db update` (another process, a VulnStoreWriter) writes.
 *
 * Cache rule: a scan asks for the same source package (libc6, libc-bin, … → glibc) and CVE many times, so
 * lookups, record heads, EPSS scores and the KEV list are memoised, and every memo belongs to one committed
 * state of the file. SQLite's `PRAGMA data_version` changes on this connection whenever another connection has
 * committed; it is read at the start of every `snapshot()` (inside its read transaction, so it names the very
 * state the snapshot reads) and before every cached read made outside a snapshot. When it moved, every memo is
 * dropped before anything is answered: a reader kept open for hours never serves data an update replaced.
 */
export class VulnStoreReader extends StoreConnection {
  private readonly lookups = new Map<string, AdvisoryCandidate[]>();
  private readonly heads = new Map<string, OsvRecord>();
  private readonly headTexts = new Map<string, Map<string, string>>();
  private readonly epssCache = new Map<string, EpssScore | undefined>();
  private kevIds: Set<string> | undefined;
  /** The `data_version` the memos were filled at; undefined before the first read. */
  private cachedVersion: number | undefined;

  private constructor(dir: string, path: string, db: SqliteDatabase) {
    super(dir, path, db);
  }

  /**
   * Undefined when there is no database file yet. Never creates, upgrades or writes anything: a file of an
   * older layout throws OlderSchemaError (exit 3, saying to run `lading db update`), a newer one NewerSchemaError.
   */
  static open(dir: string): VulnStoreReader | undefined {
    const path = dbPath(dir);
    if (!existsSync(path)) return undefined;
    const db = openDatabase(path, true);
    try {
      const version = checkSchemaVersion(db, path);
      if (version === 0) {
        db.close();
        return undefined;
      }
      if (version < SCHEMA_VERSION) throw new OlderSchemaError(path, version);
      db.pragmaValue(`mmap_size = ${READ_MMAP_BYTES}`);
    } catch (err) {
      db.close();
      throw wrapDbError(err, path);
    }
    return new VulnStoreReader(dir, path, db);
  }

  /**
   * Runs reads in one read transaction: every query sees the same committed state, even if an update commits
   * meanwhile (a package's candidates and their heads are read by separate queries). Nested calls join the
   * enclosing snapshot.
   */
  snapshot<T>(read: () => T): T {
    if (this.db.inTransaction) return read();
    return this.db.transaction(() => {
      this.dropCachesIfMoved();
      return read();
    });
  }

  /** Records naming a package (any release of the ecosystem), one per id (the newest copy), read whole. */
  recordsFor(ecosystem: string, name: string): OsvRecord[] {
    const rows = this.stmt(
      'SELECT r.id AS id, r.modified AS modified, r.data AS data FROM heads h JOIN records r ON r.source = h.source AND r.id = h.id WHERE h.ecosystem = ? AND h.name = ?',
    ).all(baseEcosystem(ecosystem), normalizePackageName(ecosystem, name)) as {
      id: string;
      modified: string;
      data: Uint8Array;
    }[];
    const byId = new Map<string, { modified: string; data: Uint8Array }>();
    for (const row of rows) {
      const known = byId.get(row.id);
      if (!known || row.modified > known.modified) byId.set(row.id, row);
    }
    return [...byId.values()].map((row) => decodeRecord(row.data));
  }

  /** What names a package in that release (see `releaseKey`), one per id (the newest copy); memoised. */
  candidatesFor(ecosystem: string, name: string): AdvisoryCandidate[] {
    this.checkOutsideSnapshot();
    const base = baseEcosystem(ecosystem);
    const normalized = normalizePackageName(ecosystem, name);
    const release = releaseKey(ecosystem);
    const key = `${release}\u0000${normalized}`;
    let candidates = this.lookups.get(key);
    if (!candidates) {
      candidates = this.queryCandidates(base, normalized, release);
      this.lookups.set(key, candidates);
    }
    return candidates;
  }

  kev(cve: string): KevEntry | undefined {
    this.checkOutsideSnapshot();
    // The catalog is ~1.5k CVEs: one query answers every later "is it known exploited?" without touching SQLite.
    this.kevIds ??= new Set((this.stmt('SELECT cve FROM kev').all() as { cve: string }[]).map((r) => r.cve));
    if (!this.kevIds.has(cve)) return undefined;
    const row = this.stmt('SELECT cve, date_added, ransomware FROM kev WHERE cve = ?').get(cve) as
      | { cve: string; date_added: string | null; ransomware: string | null }
      | undefined;
    if (!row) return undefined;
    const entry: KevEntry = { cve: row.cve };
    if (row.date_added) entry.dateAdded = row.date_added;
    if (row.ransomware) entry.ransomware = row.ransomware;
    return entry;
  }

  epss(cve: string): EpssScore | undefined {
    this.checkOutsideSnapshot();
    if (this.epssCache.has(cve)) return this.epssCache.get(cve);
    const row = this.stmt('SELECT score, percentile FROM epss WHERE cve = ?').get(cve) as
      | { score: number; percentile: number | null }
      | undefined;
    const score = !row
      ? undefined
      : row.percentile === null
        ? { score: row.score }
        : { score: row.score, percentile: row.percentile };
    this.epssCache.set(cve, score);
    return score;
  }

  /** Reads the scores of many CVEs in chunks; `epss()` then answers them (and the absent ones) from memory. */
  prefetchEpss(cves: Iterable<string>): void {
    this.checkOutsideSnapshot();
    const wanted = [...cves].filter((cve) => !this.epssCache.has(cve));
    for (let i = 0; i < wanted.length; i += EPSS_CHUNK) {
      const chunk = wanted.slice(i, i + EPSS_CHUNK);
      for (const cve of chunk) this.epssCache.set(cve, undefined);
      const rows = this.epssChunk(chunk.length).all(...chunk) as {
        cve: string;
        score: number;
        percentile: number | null;
      }[];
      for (const row of rows) {
        this.epssCache.set(
          row.cve,
          row.percentile === null ? { score: row.score } : { score: row.score, percentile: row.percentile },
        );
      }
    }
  }

  /** A compact, self-contained copy (SQLite's own online copy: consistent even while an update runs). */
  exportTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
  }

  /** Inside a snapshot the state cannot move (its start checked it); outside, each cached read checks. */
  private checkOutsideSnapshot(): void {
    if (!this.db.inTransaction) this.dropCachesIfMoved();
  }

  private dropCachesIfMoved(): void {
    const version = this.db.pragmaValue('data_version') as number;
    if (version === this.cachedVersion) return;
    this.lookups.clear();
    this.heads.clear();
    this.headTexts.clear();
    this.epssCache.clear();
    this.kevIds = undefined;
    this.cachedVersion = version;
  }

  private queryCandidates(ecosystem: string, name: string, release: string): AdvisoryCandidate[] {
    const rows = this.stmt(
      'SELECT source, id, modified, affected FROM packages WHERE ecosystem = ? AND name = ? AND release = ?',
    ).all(ecosystem, name, release) as { source: string; id: string; modified: string; affected: string }[];
    const newest = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      const known = newest.get(row.id);
      if (!known || row.modified > known.modified) newest.set(row.id, row);
    }
    const candidates: AdvisoryCandidate[] = [];
    for (const row of newest.values()) {
      let affected: OsvAffected[];
      try {
        affected = JSON.parse(row.affected) as OsvAffected[];
      } catch (err) {
        throw new LadingError('DB', `${this.path}: damaged package row for ${row.id}: ${thrownValueText(err)}`);
      }
      candidates.push({ id: row.id, affected, record: () => this.head(ecosystem, name, row.source, row.id) });
    }
    return candidates;
  }

  /**
   * A hit's head, parsed once per state (a CVE hits many packages' lookups). The first hit of a package reads
   * the heads of all its records in one query: they sit together in the table, and one read beats one per hit.
   */
  private head(ecosystem: string, name: string, source: string, id: string): OsvRecord {
    this.checkOutsideSnapshot();
    const key = `${source}\u0000${id}`;
    const parsed = this.heads.get(key);
    if (parsed) return parsed;
    const packageKey = `${ecosystem}\u0000${name}`;
    let texts = this.headTexts.get(packageKey);
    if (!texts) {
      const rows = this.stmt('SELECT source, id, head FROM heads WHERE ecosystem = ? AND name = ?').all(
        ecosystem,
        name,
      ) as { source: string; id: string; head: string }[];
      texts = new Map(rows.map((r) => [`${r.source}\u0000${r.id}`, r.head]));
      this.headTexts.set(packageKey, texts);
    }
    const text = texts.get(key);
    if (text === undefined) {
      throw new LadingError('DB', `${this.path}: record ${id} is indexed but missing (run \`lading db update\`)`);
    }
    let record: OsvRecord;
    try {
      record = JSON.parse(text) as OsvRecord;
    } catch (err) {
      throw new LadingError('DB', `${this.path}: damaged record head for ${id}: ${thrownValueText(err)}`);
    }
    this.heads.set(key, record);
    return record;
  }

  private epssChunk(size: number): SqliteStatement {
    return this.stmt(`SELECT cve, score, percentile FROM epss WHERE cve IN (${'?,'.repeat(size - 1)}?)`);
  }
}
