// The report `/diff` and `/gates/evaluate` judge: the server's own findings of an image, not the report CI pushed.
// Which findings an image has, their severity, fixed version, KEV mark and suppression come from the `findings`
// rows (the server's match with the engine's matcher at ingest, re-analysis after each data update, exceptions);
// the inventory they were matched on (packages, OS, target, when it was made, what was left unchecked) is the stored
// inventory artifact (the image's Lading report, else its SBOM through the engine's readers). Each finding carries
// the matcher's full detail (advisory, description, references) when the stored report holds the same finding;
// one the report lacks (re-analysis found it later) is written from its rows. When the server's findings equal the
// CLI's, the document equals the CLI's report, so `/diff` stays byte-identical to `lading diff -o json`.
import type { Finding, FindingStatus, Package, Report, Severity, Suppression } from '@lading/engine/model';
import { buildReport, summarize } from '@lading/engine/report';
import { type Kysely, sql } from 'kysely';
import { decodeJson, type SqlDialect } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { inventoryFromArtifact } from '../ingest/vulnerability-row.js';
import { parseStoredReport, UnusableReportError } from './compare.js';
import { fingerprint, OBJECT_OVERHEAD, type ReportCaches, reportCachesOf } from './report-cache.js';
import { reportOf } from './reports.js';

type Db = Kysely<Database>;

/** Reads a stored blob whole under a cap (the route supplies its reader, which answers 422 past the cap). */
export type BlobReader = (sha256: string) => Promise<Buffer>;

/** Why an image cannot be judged: no inventory stored (no report, no SBOM), or one that cannot be read (the route answers 422). */
export class NoServerReportError extends Error {
  constructor(
    message: string,
    readonly code: 'no_report' | 'unusable_report',
  ) {
    super(message);
  }
}

/** One non-resolved finding row of an image with what the document needs of its vulnerability and package. */
export interface FindingRow {
  vulnId: string;
  aliases: string[];
  summary: string | null;
  severity: string;
  cvss: Finding['cvss'];
  epss: number | null;
  kev: boolean;
  publishedAt: number | null;
  fixedVersion: string | null;
  status: 'open' | 'suppressed';
  purl: string;
  name: string;
  version: string;
  type: string;
  exception: { status: string; reason: string; expiresAt: number } | null;
}

const SEVERITY_WORDS: ReadonlySet<string> = new Set(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN']);

/** What a report is built from of each finding row: selected as is, and hashed in SQL in this order on PostgreSQL. */
const FINDING_COLUMNS = [
  'v.vuln_id',
  'v.aliases',
  'v.summary',
  'v.cvss',
  'v.epss',
  'v.kev',
  'v.published_at',
  'f.severity',
  'f.fixed_version',
  'f.status',
  'p.purl',
  'p.name',
  'p.version',
  'p.type',
  'x.status as exception_status',
  'x.reason as exception_reason',
  'x.expires_at as exception_expires_at',
] as const;

/** The image's non-resolved findings with their vulnerability, package and exception (one join, both statements). */
function findingRowsFrom(db: Db, imageId: number) {
  return db
    .selectFrom('findings as f')
    .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
    .innerJoin('packages as p', 'p.id', 'f.package_id')
    .leftJoin('exceptions as x', 'x.id', 'f.exception_id')
    .where('f.image_id', '=', imageId)
    .where('f.status', '!=', 'resolved');
}

/** The statement behind {@link findingRowsOf}: its rows as the driver returns them (what the cache key hashes). */
function selectFindingRows(db: Db, imageId: number) {
  return findingRowsFrom(db, imageId).select(FINDING_COLUMNS).orderBy('f.id');
}

/**
 * PostgreSQL: a fingerprint of the rows {@link selectFindingRows} returns, computed by the database so that a cache
 * hit costs one short answer instead of 500 rows sent, parsed and hashed in JavaScript. It names each row by the ids
 * and tuple versions (`xmin`: the transaction that wrote that version) of the finding, its vulnerability, its package
 * and its exception, in finding order: PostgreSQL writes a new version, with the writing transaction's id, for every
 * change to a row, so any change to what the report is built from (and any finding appearing or leaving) changes
 * the fingerprint; equal fingerprints mean the same committed row versions, so the same rows. (The same id could
 * only come back after 2³² transactions.) It costs the join alone: hashing the rows' JSON took four times as long
 * (10.5 ms against 2.4 ms on the 10,000-image fleet), which at concurrency 8 made a hit dearer than the build.
 * 'no rows' when the image has none.
 */
async function rowsFingerprintInDatabase(db: Db, imageId: number): Promise<string> {
  const row = await findingRowsFrom(db, imageId)
    .select(
      sql<string | null>`md5(string_agg(concat_ws(':', f.id, f.xmin, v.id, v.xmin, p.id, p.xmin, x.id, x.xmin), ','
        order by f.id))`.as('rows_fingerprint'),
    )
    .executeTakeFirstOrThrow();
  return row.rows_fingerprint === null ? 'no rows' : `versions:${row.rows_fingerprint}`;
}

type RawFindingRow = Awaited<ReturnType<ReturnType<typeof selectFindingRows>['execute']>>[number];

function toFindingRow(r: RawFindingRow): FindingRow {
  return {
    vulnId: r.vuln_id,
    aliases: (decodeJson<unknown[]>(r.aliases) ?? []).filter((a): a is string => typeof a === 'string'),
    summary: r.summary,
    severity: r.severity,
    cvss: r.cvss === null ? [] : (decodeJson<Finding['cvss']>(r.cvss) ?? []),
    epss: r.epss === null ? null : Number(r.epss),
    kev: Number(r.kev) === 1,
    publishedAt: r.published_at === null ? null : Number(r.published_at),
    fixedVersion: r.fixed_version,
    status: r.status === 'suppressed' ? 'suppressed' : 'open',
    purl: r.purl,
    name: r.name,
    version: r.version,
    type: r.type,
    exception:
      r.exception_status !== null && r.exception_reason !== null && r.exception_expires_at !== null
        ? { status: r.exception_status, reason: r.exception_reason, expiresAt: Number(r.exception_expires_at) }
        : null,
  };
}

/** The image's open and suppressed findings as the server holds them (resolved ones are gone from the image). */
export async function findingRowsOf(db: Db, imageId: number): Promise<FindingRow[]> {
  return (await selectFindingRows(db, imageId).execute()).map(toFindingRow);
}

/** Where an image's inventory document comes from: a stored Lading report, or its inventory artifact (an SBOM). */
type InventorySource =
  | { from: 'report'; sha256: string }
  | { from: 'artifact'; sha256: string; kind: string; ingestedAt: number };

/** The newest stored Lading report of the image, else its inventory artifact; `no_report` when it has neither. */
async function inventorySourceOf(db: Db, image: { id: number; digest: string }): Promise<InventorySource> {
  const report = await reportOf(db, image.id);
  if (report) return { from: 'report', sha256: report.sha256 };
  const row = await db
    .selectFrom('images as i')
    .innerJoin('artifacts as a', 'a.id', 'i.inventory_artifact_id')
    .select(['a.sha256', 'a.kind', 'i.last_ingested_at'])
    .where('i.id', '=', image.id)
    .executeTakeFirst();
  if (!row) {
    throw new NoServerReportError(`image ${image.digest} has no Lading report stored, nor an SBOM`, 'no_report');
  }
  return { from: 'artifact', sha256: row.sha256, kind: row.kind, ingestedAt: Number(row.last_ingested_at) };
}

/**
 * The inventory document the server matched for the image: its newest stored Lading report, else its inventory
 * artifact (an SBOM) made into a report by the engine's builder, dated when the server last ingested the image.
 * A function of the source alone (blobs are content-addressed), which is what lets the cache key name it by it.
 */
async function inventoryDocument(
  read: BlobReader,
  source: InventorySource,
  digest: string,
): Promise<{ document: Report; bytes: number }> {
  if (source.from === 'report') {
    const bytes = await read(source.sha256);
    try {
      return { document: parseStoredReport(bytes, `report sha256:${source.sha256}`), bytes: bytes.byteLength };
    } catch (err) {
      if (err instanceof UnusableReportError) throw new NoServerReportError(err.message, 'unusable_report');
      throw err;
    }
  }
  let read_: Awaited<ReturnType<typeof inventoryFromArtifact>>;
  let bytes: Buffer;
  try {
    bytes = await read(source.sha256);
    read_ = await inventoryFromArtifact(source.kind, bytes, digest);
  } catch (err) {
    throw new NoServerReportError(
      `sbom sha256:${source.sha256}: ${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)}`,
      'unusable_report',
    );
  }
  const document = buildReport({
    target: read_.target,
    inventory: read_.inventory,
    findings: [],
    warnings: [],
    createdAt: new Date(source.ingestedAt),
  });
  return { document, bytes: bytes.byteLength };
}

/** The matcher's order of findings in a report: by package id, then vulnerability id (code-unit order). */
const byPackageThenId = (a: Finding, b: Finding): number =>
  a.packageId < b.packageId ? -1 : a.packageId > b.packageId ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

const findingKey = (id: string, purl: string) => `${id}\n${purl}`;

/** How the server suppresses a finding it holds as suppressed, when the stored report does not say why. */
function serverSuppression(row: FindingRow): Suppression {
  if (row.exception) {
    return {
      kind: 'policy-exception',
      reason: `${row.exception.status}: ${row.exception.reason}`,
      source: 'lading-server exception',
      expires: new Date(row.exception.expiresAt).toISOString(),
    };
  }
  return { kind: 'vex', reason: 'suppressed when the server matched the image' };
}

/** A finding written from its rows alone (the stored report does not hold it: re-analysis found it later). */
function findingFromRow(row: FindingRow, packageId: string): Finding {
  const finding: Finding = {
    id: row.vulnId,
    aliases: [...row.aliases].sort(),
    packageId,
    package: { name: row.name, version: row.version, type: row.type as Package['type'], purl: row.purl },
    severity: (SEVERITY_WORDS.has(row.severity) ? row.severity : 'UNKNOWN') as Severity,
    cvss: row.cvss,
    status: (row.fixedVersion ? 'fixed' : 'affected') satisfies FindingStatus,
    fixedVersions: row.fixedVersion ? [row.fixedVersion] : [],
    kev: row.kev,
    advisory: { id: row.vulnId, source: 'osv' },
  };
  if (row.summary !== null) finding.title = row.summary;
  if (row.epss !== null) finding.epss = row.epss;
  if (row.publishedAt !== null) finding.published = new Date(row.publishedAt).toISOString();
  return finding;
}

/**
 * The server's findings over the inventory document: the document's own findings are replaced by the rows', each
 * keeping the document's detail for the same (vulnerability, package) and taking severity, fixed version, KEV and
 * suppression from the row.
 */
export function withServerFindings(document: Report, rows: readonly FindingRow[]): Report {
  // a report may hold one finding several times for one purl (the same package found at two paths): each stays
  const detail = new Map<string, Finding[]>();
  for (const f of document.findings) {
    const key = findingKey(f.id, f.package.purl);
    detail.set(key, [...(detail.get(key) ?? []), f]);
  }
  const packageIdByPurl = new Map<string, string>();
  for (const p of document.packages) if (!packageIdByPurl.has(p.purl)) packageIdByPurl.set(p.purl, p.id);
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const row of rows) {
    const key = findingKey(row.vulnId, row.purl);
    if (seen.has(key)) continue;
    seen.add(key);
    const known = detail.get(key) ?? [];
    const copies = known.length
      ? known.map((f) => ({ ...f }))
      : [findingFromRow(row, packageIdByPurl.get(row.purl) ?? `purl:${row.purl}`)];
    for (const [i, finding] of copies.entries()) {
      if (SEVERITY_WORDS.has(row.severity)) finding.severity = row.severity as Severity;
      if ((finding.fixedVersions[0] ?? null) !== row.fixedVersion) {
        finding.fixedVersions = row.fixedVersion ? [row.fixedVersion] : [];
      }
      finding.kev = row.kev;
      if (row.status === 'open') delete finding.suppressed;
      else finding.suppressed = known[i]?.suppressed ?? serverSuppression(row);
      findings.push(finding);
    }
  }
  findings.sort(byPackageThenId);
  const { gate: _gate, policy: _policy, ...rest } = document;
  return { ...rest, findings, summary: summarize(document.packages.length, findings) };
}

/** A judged report and the fingerprint of everything it was built from (the `/diff` cache keys its answer by two). */
export interface JudgedReport {
  report: Report;
  fingerprint: string;
}

/**
 * The report the server judges for an image: its inventory document with the server's findings. The rows are read
 * (or, on PostgreSQL, hashed by the database) on every call; the build from them is cached under a hash of the
 * image's digest, the inventory source and the rows exactly as read (queries/report-cache.ts), so any change to
 * what the report is made of misses the cache.
 */
export async function serverReport(
  db: Db,
  dialect: SqlDialect,
  read: BlobReader,
  image: { id: number; digest: string },
): Promise<JudgedReport> {
  const caches = reportCachesOf<Report>(db);
  if (dialect === 'postgres') {
    const [source, rowsFingerprint] = await Promise.all([
      inventorySourceOf(db, image),
      rowsFingerprintInDatabase(db, image.id),
    ]);
    const key = reportKey(image.digest, source, `sql:${rowsFingerprint}`);
    const cached = caches.reports.get(key);
    if (cached) return { report: cached, fingerprint: key };
    return buildOnce(
      caches,
      key,
      async () => {
        // the rows and their hash from one snapshot: the report is kept under the hash of exactly its rows
        const [hash, raw] = await db
          .transaction()
          .setIsolationLevel('repeatable read')
          .execute(
            async (trx) =>
              [
                await rowsFingerprintInDatabase(trx, image.id),
                await selectFindingRows(trx, image.id).execute(),
              ] as const,
          );
        return { key: reportKey(image.digest, source, `sql:${hash}`), raw, rowsLength: JSON.stringify(raw).length };
      },
      read,
      source,
      image.digest,
    );
  }
  const [source, raw] = await Promise.all([inventorySourceOf(db, image), selectFindingRows(db, image.id).execute()]);
  const rowsText = rowsAsText(raw);
  const key = reportKey(image.digest, source, rowsText);
  const cached = caches.reports.get(key);
  if (cached) return { report: cached, fingerprint: key };
  return buildOnce(caches, key, async () => ({ key, raw, rowsLength: rowsText.length }), read, source, image.digest);
}

function reportKey(digest: string, source: InventorySource, rows: string): string {
  return fingerprint([CACHE_FORMAT, digest, JSON.stringify(source), rows]);
}

/**
 * Builds the report a missed `key` names, once however many requests missed it at the same time, and keeps it under
 * the key of the rows it was built from (`rows` reads them; on PostgreSQL that key may be newer than `key`).
 */
function buildOnce(
  caches: ReportCaches<Report>,
  key: string,
  rows: () => Promise<{ key: string; raw: readonly RawFindingRow[]; rowsLength: number }>,
  read: BlobReader,
  source: InventorySource,
  digest: string,
): Promise<JudgedReport> {
  let building = caches.building.get(key);
  if (!building) {
    building = (async () => {
      caches.built++;
      const [{ document, bytes }, rowsRead] = await Promise.all([inventoryDocument(read, source, digest), rows()]);
      const report = freezeDeep(withServerFindings(document, rowsRead.raw.map(toFindingRow)));
      caches.reports.set(rowsRead.key, report, (rowsRead.rowsLength + bytes) * OBJECT_OVERHEAD);
      return { report, fingerprint: rowsRead.key };
    })();
    caches.building.set(key, building);
    building.then(
      () => caches.building.delete(key),
      () => caches.building.delete(key),
    );
  }
  return building;
}

/**
 * The rows as read, as JSON text: unambiguous and well-formed (no lone surrogates), so equal text means equal rows;
 * except that JSON writes NaN and ±Infinity as null. Of these columns only EPSS is a floating-point one (`real`,
 * which may hold them; the others are integers or text), so when a row's EPSS is one, every non-finite number is
 * written as a marker object instead (the driver never returns an object for these columns).
 */
function rowsAsText(raw: readonly RawFindingRow[]): string {
  const nonFinite = raw.some((row) => typeof row.epss === 'number' && !Number.isFinite(row.epss));
  return nonFinite
    ? JSON.stringify(raw, (_key, v: unknown) =>
        typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v,
      )
    : JSON.stringify(raw);
}

/** Bumped when what a cached report is built from changes (a new input, another builder): old keys never match. */
const CACHE_FORMAT = 'judged-report/1';

/**
 * A cached report is shared by every later request: frozen, so code that would change it in place (and so change
 * every later answer) fails at once instead (the engine's diff and assess build new objects; tests hold them to it).
 */
function freezeDeep<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length) {
    const next = stack.pop();
    if (next === null || typeof next !== 'object' || Object.isFrozen(next)) continue;
    Object.freeze(next);
    for (const child of Object.values(next)) if (child !== null && typeof child === 'object') stack.push(child);
  }
  return value;
}
