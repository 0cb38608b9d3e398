// `seed`: a fleet for the query benchmark, written straight into a migrated database (PostgreSQL or SQLite) in
// chunked multi-row inserts. Default: 10,000 images (20 builds of 500 repositories), 400 packages and 500 findings
// per image (4M occurrences, 5M findings). Deterministic (choices are hashes of indexes): the same flags and the
// same dpkg status file give the same fleet.
//
// What is real: the base packages are the name and version of every package of a real Debian 12 system's dpkg
// status file (`--dpkg-status`, default /var/lib/dpkg/status) and every image's base is 280 of them (70% of its
// packages, shared across the fleet), in one of three versions that vary per build; the vulnerabilities include
// every OSV record of engine/test/fixtures (real ids and aliases), one of which (the hot CVE, CVE-2023-0286 when
// present) is open in 30% of the images. What is generated: 120 application packages per image (npm, a new version
// every 5 builds), the remaining vulnerability ids, and which package has which vulnerability. Two real Lading
// reports (made by the CLI from the e2e fixtures, `--reports A.json,B.json`) are stored as every image's report so
// that /diff reads real documents.
//
// With `--study DIR` (the re-analysis benchmark, server/bench/reanalysis.ts) the base pool is instead the real
// Debian 8 (jessie) binary packages of the official images recorded in examples/study (634 names, each in the
// version most of those images hold, with its source name and version; 2016-2018), matched by source name as ingest does, so that real jessie DSA/DLA advisories name them;
// with `--inventories` every image also gets its inventory (a Lading report holding its 400 packages) in the blob
// store, which re-analysis reads.
//
// Usage: node --conditions=source --import tsx server/bench/seed.ts --database URL|FILE --data-dir DIR
//        [--images 10000] [--repositories 500] [--reports a.json,b.json] [--study examples/study] [--inventories]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { type Insertable, type Kysely, sql } from 'kysely';
import { openBlobStore } from '../src/blobs/index.js';
import { databaseTarget, openDatabase } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database } from '../src/db/schema.js';
import { matchExtraOf, matchOsOf } from '../src/ingest/match-input.js';

const PACKAGES_PER_IMAGE = 400;
const BASE_PER_IMAGE = 280;
const FINDINGS_PER_IMAGE = 500;
const VULNERABILITIES = 20_000;
const T0 = Date.UTC(2026, 0, 1);
const OSV_FIXTURES = new URL('../../engine/test/fixtures/', import.meta.url).pathname;
export const HOT_CVE = 'CVE-2023-0286';

/** A stable hash of small integers, for choices that must not depend on generation order. */
function mix(...values: number[]): number {
  let h = 2166136261;
  for (const v of values) {
    h ^= v;
    h = Math.imul(h, 16777619) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}

interface BasePackage {
  name: string;
  version: string;
  source?: { name: string; version: string };
}

/**
 * The Debian 8 binary packages of the study's official images (examples/study/README.md): one per name (634), in the
 * version most of those images hold, so that an image never holds two versions of one package.
 */
export function studyPackages(dir: string): BasePackage[] {
  const text = gunzipSync(readFileSync(join(dir, 'images.jsonl.gz'))).toString('utf8');
  const seen = new Map<string, { pkg: BasePackage; images: number }>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const image = JSON.parse(line) as {
      os?: { family?: string; version?: string };
      packages?: { name: string; version: string; sourceName?: string; sourceVersion?: string }[];
    };
    if (image.os?.family !== 'debian' || image.os.version !== '8') continue;
    for (const p of image.packages ?? []) {
      const key = `${p.name}\u0000${p.version}`;
      const entry = seen.get(key);
      if (entry) entry.images++;
      else
        seen.set(key, {
          pkg: {
            name: p.name,
            version: p.version,
            source: { name: p.sourceName || p.name, version: p.sourceVersion || p.version },
          },
          images: 1,
        });
    }
  }
  const byName = new Map<string, { pkg: BasePackage; images: number }>();
  for (const entry of seen.values()) {
    const best = byName.get(entry.pkg.name);
    if (!best || entry.images > best.images || (entry.images === best.images && entry.pkg.version < best.pkg.version))
      byName.set(entry.pkg.name, entry);
  }
  return [...byName.values()].map((e) => e.pkg).sort((a, b) => a.name.localeCompare(b.name));
}

function dpkgPackages(file: string): BasePackage[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: { name: string; version: string }[] = [];
  for (const stanza of text.split(/\n\n+/)) {
    const name = /^Package: (.+)$/m.exec(stanza)?.[1];
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    if (name && version) out.push({ name, version });
  }
  return out;
}

function osvRecords(dir: string): { id: string; aliases: string[]; summary: string | null }[] {
  const out: { id: string; aliases: string[]; summary: string | null }[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.json')) {
        try {
          const doc = JSON.parse(readFileSync(path, 'utf8')) as {
            id?: string;
            aliases?: string[];
            upstream?: string[];
            summary?: string;
          };
          if (typeof doc.id === 'string')
            out.push({
              id: doc.id,
              aliases: [...(doc.aliases ?? []), ...(doc.upstream ?? [])],
              summary: doc.summary ?? null,
            });
        } catch {
          // not an OSV record (fixtures hold other JSON too)
        }
      }
    }
  };
  for (const sub of ['vulndb/osv', 'vulndb/osv-distros', 'e2e/osv']) {
    try {
      walk(join(dir, sub));
    } catch {
      // absent folder
    }
  }
  return out;
}

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
const WEIGHT = { CRITICAL: 10, HIGH: 5, MEDIUM: 2, LOW: 1, UNKNOWN: 0 } as const;

function severityOf(index: number): (typeof SEVERITIES)[number] {
  const p = mix(index, 7) % 100;
  return p < 3 ? 'CRITICAL' : p < 23 ? 'HIGH' : p < 63 ? 'MEDIUM' : p < 93 ? 'LOW' : 'UNKNOWN';
}

async function insertChunked<T extends keyof Database & string>(
  db: Kysely<Database>,
  table: T,
  rows: Insertable<Database[T]>[],
  columns: number,
): Promise<void> {
  // under both engines' bound-parameter limits (SQLite 32,766; PostgreSQL 65,535)
  const size = Math.max(1, Math.floor(30_000 / columns));
  for (let i = 0; i < rows.length; i += size) {
    await db
      .insertInto(table)
      // biome-ignore lint/suspicious/noExplicitAny: rows are typed by the caller; Kysely's generic insert is too narrow
      .values(rows.slice(i, i + size) as any)
      .execute();
  }
}

export interface SeedOptions {
  database: string;
  dataDir: string;
  images: number;
  repositories: number;
  reports: string[];
  dpkgStatus: string;
  /** examples/study: a Debian 8 base pool from its real images instead of the dpkg status file. */
  study?: string;
  /** Store every image's inventory (a Lading report of its packages) and point images.inventory_artifact_id at it. */
  inventories?: boolean;
  log?: (line: string) => void;
}

export async function seedFleet(options: SeedOptions): Promise<{ digests: string[]; hot: string }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const handle = await openDatabase(databaseTarget(options.database), { poolSize: 4 });
  const { db } = handle;
  await migrateToLatest(db, handle.dialect);
  if (handle.dialect === 'sqlite') {
    // a bulk load: the benchmark's data is thrown away if the machine fails mid-seed
    await sql`pragma synchronous = off`.execute(db);
  }
  const builds = Math.ceil(options.images / options.repositories);

  // ---- repositories, vulnerabilities, packages ----
  const repositoryRows = Array.from({ length: options.repositories }, (_, r) => {
    const name = `bench.example/team-${r % 10}/svc-${r}`;
    return {
      public_id: `repo_bench${String(r).padStart(6, '0')}`,
      name,
      name_lc: name,
      team_id: null,
      source_repo: null,
      archived_at: null,
      purge_after: null,
      created_at: T0,
    };
  });
  await insertChunked(db, 'repositories', repositoryRows, 8);
  const repositoryIds = (await db.selectFrom('repositories').select(['id', 'name']).orderBy('id').execute()).map(
    (r) => r.id,
  );

  const real = osvRecords(OSV_FIXTURES);
  const isHot = (r: { id: string; aliases: string[] }) => r.id === HOT_CVE || r.aliases.includes(HOT_CVE);
  real.sort((a, b) => (isHot(a) ? -1 : isHot(b) ? 1 : a.id.localeCompare(b.id)));
  const seen = new Set<string>();
  const vulnRows: Insertable<Database['vulnerabilities']>[] = [];
  const aliasRows: { alias: string; index: number }[] = [];
  for (const record of real) {
    if (seen.has(record.id) || record.aliases.some((a) => seen.has(a))) continue;
    seen.add(record.id);
    for (const a of record.aliases) seen.add(a);
    // the record's CVE, when an alias is one, is its id (SERVER.md section 1); the others are aliases
    const cve = [record.id, ...record.aliases].find((a) => a.startsWith('CVE-')) ?? record.id;
    const names = [...new Set([record.id, ...record.aliases])];
    vulnRows.push(
      vulnRow(
        cve,
        names.filter((a) => a !== cve),
        record.summary,
        vulnRows.length,
      ),
    );
    for (const alias of names) aliasRows.push({ alias, index: vulnRows.length - 1 });
  }
  while (vulnRows.length < VULNERABILITIES) {
    const id = `CVE-2025-${10000 + vulnRows.length}`;
    const ghsa = `GHSA-${(mix(vulnRows.length) % 36 ** 4).toString(36).padStart(4, '0')}-bnch-${String(vulnRows.length).padStart(4, '0').slice(-4)}`;
    vulnRows.push(vulnRow(id, [ghsa], `bench vulnerability ${vulnRows.length}`, vulnRows.length));
    aliasRows.push({ alias: id, index: vulnRows.length - 1 }, { alias: ghsa, index: vulnRows.length - 1 });
  }
  await insertChunked(db, 'vulnerabilities', vulnRows, 13);
  const vulnIds = (await db.selectFrom('vulnerabilities').select('id').orderBy('id').execute()).map((r) => r.id);
  const vulnSeverity = vulnRows.map((v) => v.severity as (typeof SEVERITIES)[number]);
  const vulnKev = vulnRows.map((v) => v.kev === 1);
  await insertChunked(
    db,
    'vuln_aliases',
    aliasRows.map((a) => ({ alias: a.alias, vulnerability_id: vulnIds[a.index] as number, created_at: T0 })),
    3,
  );
  const hot = vulnRows[0]?.vuln_id as string;
  log(
    `seed: ${repositoryIds.length} repositories, ${vulnRows.length} vulnerabilities (${real.length} real records, hot ${hot})`,
  );

  let base: BasePackage[] = options.study ? studyPackages(options.study) : dpkgPackages(options.dpkgStatus);
  const release = options.study ? { distro: 'debian-8', ecosystem: 'Debian:8', version: '8' } : null;
  // two base slots never share a package: slot j takes base (2j + c) mod the pool size, so the pool needs 2×280
  if (base.length < 2 * BASE_PER_IMAGE) {
    base = [
      ...base,
      ...Array.from({ length: 2 * BASE_PER_IMAGE - base.length }, (_, i) => ({
        name: `base-lib-${i}`,
        version: `1.${i}`,
      })),
    ];
  }
  const basePurl = (b: number, variant: number) => {
    const p = base[b] as BasePackage;
    const suffix = variant ? `+bench${variant}` : '';
    return {
      purl: `pkg:deb/debian/${p.name}@${p.version}${suffix}?arch=amd64&distro=${release?.distro ?? 'debian-12'}`,
      name: p.name,
      version: `${p.version}${suffix}`,
      ...(p.source ? { source: { name: p.source.name, version: `${p.source.version}${suffix}` } } : {}),
    };
  };
  const appVersions = Math.ceil(builds / 5);
  const packageRows: Insertable<Database['packages']>[] = [];
  for (let b = 0; b < base.length; b++) {
    for (let v = 0; v < 3; v++) {
      const p = basePurl(b, v);
      packageRows.push({
        purl: p.purl,
        type: 'deb',
        name: p.name,
        name_lc: p.name.toLowerCase(),
        version: p.version,
        // --study: as ingest stores them (process.ts): the type, the source name and version advisories use
        ecosystem: release ? 'deb' : 'Debian:12',
        match_name: p.source?.name ?? p.name,
        match_version: p.source?.version ?? p.version,
        // as ingest stores it (0010): what re-analysis matches the row with, the inventory's source
        match_extra: matchExtraOf(p),
        created_at: T0,
      });
    }
  }
  const baseCount = packageRows.length;
  for (let r = 0; r < options.repositories; r++) {
    for (let k = 0; k < PACKAGES_PER_IMAGE - BASE_PER_IMAGE; k++) {
      for (let v = 0; v < appVersions; v++) {
        const name = `@bench/svc-${r}-dep-${k}`;
        packageRows.push({
          purl: `pkg:npm/%40bench/svc-${r}-dep-${k}@1.${v}.0`,
          type: 'npm',
          name,
          name_lc: name,
          version: `1.${v}.0`,
          ecosystem: 'npm',
          match_name: name,
          match_version: `1.${v}.0`,
          match_extra: matchExtraOf({}),
          created_at: T0,
        });
      }
    }
  }
  await insertChunked(db, 'packages', packageRows, 9);
  const packageIds = (await db.selectFrom('packages').select('id').orderBy('id').execute()).map((r) => r.id);
  log(`seed: ${packageRows.length} packages (${baseCount} base) in ${Date.now() - started} ms`);

  // ---- the two real reports, stored as blobs ----
  const blobs = openBlobStore({
    blobs: `file://${join(options.dataDir, 'blobs')}`,
    stagingDir: join(options.dataDir, 'staging'),
  });
  const reportArtifacts: number[] = [];
  for (const file of options.reports) {
    const bytes = readFileSync(file);
    const stored = await blobs.put(bytes, { maxBytes: 1 << 28 });
    const row = await db
      .insertInto('artifacts')
      .values({
        sha256: stored.sha256,
        kind: 'report-lading',
        media_type: 'application/vnd.lading.report+json',
        size: stored.size,
        storage_key: `cas/sha256/${stored.sha256.slice(0, 2)}/${stored.sha256.slice(2, 4)}/${stored.sha256}`,
        first_job_id: null,
        created_at: T0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    reportArtifacts.push(row.id);
  }

  // ---- inventories (--inventories): a Lading report of the image's packages, as ingest stores one ----
  const inventories: Buffer[] = [];
  const inventoryOs = release
    ? { family: 'debian', version: release.version, ecosystem: release.ecosystem }
    : { family: 'debian', version: '12', ecosystem: 'Debian:12' };
  const inventoryOf = (indexes: number[]): Buffer => {
    const packages = indexes.map((index, n) => {
      const row = packageRows[index] as Insertable<Database['packages']>;
      const source = index < baseCount ? basePurl(Math.floor(index / 3), index % 3).source : undefined;
      return {
        id: `pkg-${n}`,
        name: row.name,
        version: row.version,
        type: row.type,
        purl: row.purl,
        ...(source ? { source } : {}),
        licenses: [],
        locations: [
          { path: row.type === 'deb' ? '/var/lib/dpkg/status' : `/app/node_modules/${row.name}/package.json` },
        ],
        foundBy: row.type === 'deb' ? 'dpkg' : 'npm',
      };
    });
    return Buffer.from(JSON.stringify({ os: inventoryOs, packages }));
  };
  const inventoryIds = new Map<string, number>();
  const storeInventories = async (documents: Buffer[]): Promise<number[]> => {
    const out: number[] = [];
    for (const bytes of documents) {
      const stored = await blobs.put(bytes, { maxBytes: 1 << 26 });
      let id = inventoryIds.get(stored.sha256);
      if (id === undefined) {
        id = (
          await db
            .insertInto('artifacts')
            .values({
              sha256: stored.sha256,
              kind: 'report-lading',
              media_type: 'application/vnd.lading.report+json',
              size: stored.size,
              storage_key: `cas/sha256/${stored.sha256.slice(0, 2)}/${stored.sha256.slice(2, 4)}/${stored.sha256}`,
              first_job_id: null,
              created_at: T0,
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id;
        inventoryIds.set(stored.sha256, id);
      }
      out.push(id);
    }
    return out;
  };

  // ---- images, in chunks of 200 ----
  const digests: string[] = [];
  const layerIds = new Map<string, number>();
  const tagIds = new Map<number, number>();
  // `latest`'s open history row per tag while it is still in the unwritten batch (closed in place when it moves)
  const openHistory = new Map<number, Insertable<Database['tag_history']>>();
  const CHUNK = 200;
  for (let first = 0; first < options.images; first += CHUNK) {
    const last = Math.min(options.images, first + CHUNK);
    const imageRows: Insertable<Database['images']>[] = [];
    const perImage: { occurrences: number[]; findings: [number, number, string, number][] }[] = [];
    for (let i = first; i < last; i++) {
      const r = i % options.repositories;
      const build = Math.floor(i / options.repositories);
      const digest = `sha256:${mix(i, 1).toString(16).padStart(8, '0')}${mix(i, 2).toString(16).padStart(8, '0')}${String(i).padStart(48, '0')}`;
      digests.push(digest);
      const occurrences: number[] = [];
      const slots: { id: number; index: number }[] = [];
      for (let j = 0; j < BASE_PER_IMAGE; j++) {
        const b = (j * 2 + (r % 7)) % base.length;
        const variant = (build + j) % 3;
        const index = b * 3 + variant;
        slots.push({ id: packageIds[index] as number, index });
      }
      for (let k = 0; k < PACKAGES_PER_IMAGE - BASE_PER_IMAGE; k++) {
        const index = baseCount + (r * (PACKAGES_PER_IMAGE - BASE_PER_IMAGE) + k) * appVersions + Math.floor(build / 5);
        slots.push({ id: packageIds[index] as number, index });
      }
      for (const s of slots) occurrences.push(s.id);
      const findings: [number, number, string, number][] = [];
      const counts = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
      let suppressed = 0;
      let risk = 0;
      let kev = 0;
      for (let s = 0; s < FINDINGS_PER_IMAGE; s++) {
        const slot = slots[s % PACKAGES_PER_IMAGE] as { id: number; index: number };
        const second = s >= PACKAGES_PER_IMAGE ? 1 : 0;
        // the same package version has the same vulnerabilities in every image; the second one is the next id
        let vIndex = 1 + (mix(slot.index) % (VULNERABILITIES - 2)) + second;
        if (s === 0 && i % 10 < 3) vIndex = 0; // the hot CVE: 30% of the images
        const statusDraw = mix(i, s) % 100;
        const status = statusDraw < 90 ? 'open' : statusDraw < 95 ? 'suppressed' : 'resolved';
        const severity = vulnSeverity[vIndex] as (typeof SEVERITIES)[number];
        if (status === 'open') {
          counts[severity]++;
          risk += WEIGHT[severity];
          if (vulnKev[vIndex]) kev = 1;
        } else if (status === 'suppressed') suppressed++;
        findings.push([slot.id, vulnIds[vIndex] as number, status, vIndex]);
      }
      perImage.push({ occurrences, findings });
      if (options.inventories) inventories.push(inventoryOf(slots.map((s) => s.index)));
      const at = T0 + i * 60_000;
      imageRows.push({
        digest,
        index_digest: null,
        platform: 'linux/amd64',
        os_ecosystem: release?.ecosystem ?? 'Debian:12',
        match_os: matchOsOf(inventoryOs),
        config_digest: null,
        image_created_at: at,
        first_ingested_at: at,
        last_ingested_at: at,
        state: 'active',
        critical: counts.CRITICAL,
        high: counts.HIGH,
        medium: counts.MEDIUM,
        low: counts.LOW,
        unknown: counts.UNKNOWN,
        suppressed,
        packages: PACKAGES_PER_IMAGE,
        has_kev: kev,
        risk_index: risk,
        evidence_state: (['verified', 'partial', 'failed', 'none'] as const)[mix(i, 3) % 4],
        evidence_score: mix(i, 4) % 10,
        evidence_max: 9,
        created_at: at,
      });
    }
    if (options.inventories) {
      const ids = await storeInventories(inventories.splice(0));
      imageRows.forEach((row, n) => {
        row.inventory_artifact_id = ids[n] as number;
      });
    }
    const inserted = await db.insertInto('images').values(imageRows).returning(['id', 'digest']).execute();
    const idOf = new Map(inserted.map((row) => [row.digest, row.id]));
    const placements: Insertable<Database['repository_images']>[] = [];
    const occurrenceRows: Insertable<Database['package_occurrences']>[] = [];
    const findingRows: Insertable<Database['findings']>[] = [];
    const layerRows: Insertable<Database['image_layers']>[] = [];
    const artifactRows: Insertable<Database['image_artifacts']>[] = [];
    const eventRows: Insertable<Database['events']>[] = [];
    const historyRows: Insertable<Database['tag_history']>[] = [];
    for (let i = first; i < last; i++) {
      const imageId = idOf.get(digests[i] as string) as number;
      const r = i % options.repositories;
      const build = Math.floor(i / options.repositories);
      const at = T0 + i * 60_000;
      const repositoryId = repositoryIds[r] as number;
      const isCurrent = i + options.repositories >= options.images ? 1 : 0;
      placements.push({
        repository_id: repositoryId,
        image_id: imageId,
        track: 'default',
        first_seen_at: at,
        is_current: isCurrent,
        created_at: at,
      });
      const data = perImage[i - first] as (typeof perImage)[number];
      for (const packageId of data.occurrences) {
        occurrenceRows.push({
          image_id: imageId,
          package_id: packageId,
          layer_id: null,
          path: 'var/lib/dpkg/status',
          found_by: 'dpkg',
          created_at: at,
        });
      }
      for (const [packageId, vulnerabilityId, status, vIndex] of data.findings) {
        findingRows.push({
          image_id: imageId,
          package_id: packageId,
          vulnerability_id: vulnerabilityId,
          severity: vulnSeverity[vIndex] as string,
          fixed_version: mix(vIndex, 9) % 2 ? '9.9.9' : null,
          status: status as 'open' | 'suppressed' | 'resolved',
          exception_id: null,
          first_seen_at: at,
          last_seen_at: at,
          resolved_at: status === 'resolved' ? at : null,
          resolution: status === 'resolved' ? 'retracted' : null,
          detected_by: 'ingest',
          created_at: at,
        });
      }
      for (let position = 0; position < 5; position++) {
        const diffId = position < 3 ? `sha256:base-${position}-${build % 3}` : `sha256:app-${i}-${position}`;
        let layerId = layerIds.get(diffId);
        if (layerId === undefined) {
          layerId = (
            await db
              .insertInto('layers')
              .values({ diff_id: diffId, digest: null, size: 1_000_000 * (position + 1), created_at: at })
              .returning('id')
              .executeTakeFirstOrThrow()
          ).id;
          if (position < 3) layerIds.set(diffId, layerId);
        }
        layerRows.push({
          image_id: imageId,
          position,
          layer_id: layerId,
          created_by: position < 3 ? 'ADD rootfs' : `RUN step ${position}`,
          created_at: at,
        });
      }
      const report = reportArtifacts[build % Math.max(1, reportArtifacts.length)];
      if (report !== undefined)
        artifactRows.push({
          image_id: imageId,
          artifact_id: report,
          role: 'report',
          predicate_type: null,
          job_id: null,
          created_at: at,
        });
      for (const [n, type] of ['image.ingested', 'evidence.verified', 'findings.matched'].entries()) {
        eventRows.push({
          at: at + n,
          type,
          actor_kind: 'system',
          actor_id: null,
          repository_id: repositoryId,
          image_id: imageId,
          vulnerability_id: null,
          severity: null,
          request_id: null,
          data: '{}',
          created_at: at + n,
        });
      }
      // tag `latest` moves to every new build; `v<build>` stays
      let latest = tagIds.get(repositoryId);
      if (latest === undefined) {
        latest = (
          await db
            .insertInto('tags')
            .values({
              repository_id: repositoryId,
              name: 'latest',
              current_image_id: imageId,
              moved_at: at,
              created_at: at,
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id;
        tagIds.set(repositoryId, latest);
      } else {
        const pending = openHistory.get(latest);
        if (pending) pending.to_at = at;
        else {
          await db
            .updateTable('tag_history')
            .set({ to_at: at })
            .where('tag_id', '=', latest)
            .where('to_at', 'is', null)
            .execute();
        }
        await db
          .updateTable('tags')
          .set({ current_image_id: imageId, moved_at: at })
          .where('id', '=', latest)
          .execute();
      }
      const open: Insertable<Database['tag_history']> = {
        tag_id: latest,
        image_id: imageId,
        from_at: at,
        to_at: null,
        source: 'ci',
        created_at: at,
      };
      openHistory.set(latest, open);
      historyRows.push(open);
      const versionTag = (
        await db
          .insertInto('tags')
          .values({
            repository_id: repositoryId,
            name: `v${build}`,
            current_image_id: imageId,
            moved_at: at,
            created_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
      historyRows.push({
        tag_id: versionTag,
        image_id: imageId,
        from_at: at,
        to_at: null,
        source: 'ci',
        created_at: at,
      });
    }
    await insertChunked(db, 'repository_images', placements, 6);
    await insertChunked(db, 'package_occurrences', occurrenceRows, 6);
    await insertChunked(db, 'findings', findingRows, 13);
    await insertChunked(db, 'image_layers', layerRows, 5);
    await insertChunked(db, 'image_artifacts', artifactRows, 6);
    await insertChunked(db, 'events', eventRows, 11);
    await insertChunked(db, 'tag_history', historyRows, 6);
    openHistory.clear();
    if ((last / CHUNK) % 5 === 0 || last === options.images)
      log(`seed: ${last} images (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  // fresh statistics, as SERVER.md section 6 asks after the seed
  await sql`analyze`.execute(db);
  log(`seed: done in ${Math.round((Date.now() - started) / 1000)} s`);
  await handle.close();
  return { digests, hot };
}

function vulnRow(
  id: string,
  aliases: string[],
  summary: string | null,
  index: number,
): Insertable<Database['vulnerabilities']> {
  return {
    vuln_id: id,
    aliases: JSON.stringify(aliases),
    summary,
    severity: severityOf(index),
    cvss: null,
    epss: (mix(index, 5) % 1000) / 1000,
    kev: mix(index, 6) % 97 === 0 ? 1 : 0,
    kev_added_at: null,
    published_at: T0 - (mix(index, 8) % 1000) * 86_400_000,
    modified_at: T0,
    withdrawn_at: null,
    created_at: T0,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      'data-dir': { type: 'string' },
      images: { type: 'string', default: '10000' },
      repositories: { type: 'string', default: '500' },
      reports: { type: 'string', default: '' },
      'dpkg-status': { type: 'string', default: '/var/lib/dpkg/status' },
      study: { type: 'string' },
      inventories: { type: 'boolean', default: false },
    },
  });
  if (!values.database || !values['data-dir']) {
    process.stderr.write(
      'usage: seed.ts --database URL|FILE --data-dir DIR [--images N] [--repositories N] [--reports A,B] [--study DIR] [--inventories]\n',
    );
    process.exit(2);
  }
  await seedFleet({
    database: values.database,
    dataDir: values['data-dir'],
    images: Number(values.images),
    repositories: Number(values.repositories),
    reports: values.reports ? values.reports.split(',') : [],
    dpkgStatus: values['dpkg-status'] ?? '/var/lib/dpkg/status',
    ...(values.study ? { study: values.study } : {}),
    inventories: values.inventories === true,
  });
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`seed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
