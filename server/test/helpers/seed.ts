// A small fleet written straight into the tables, for the read queries' tests: repositories, images with their
// placements and tags, shared packages, vulnerabilities with aliases, findings (with the per-image counters the
// ingest keeps in the same transaction), layers, artifacts, evidence and events. Plain data in, ids out.
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';

export interface SeedPackage {
  purl: string;
  type: string;
  name: string;
  version: string;
  ecosystem?: string;
  path?: string;
}

export interface SeedFinding {
  vuln: string;
  aliases?: readonly string[];
  /** The package's name (one of the image's packages). */
  package: string;
  severity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';
  status?: 'open' | 'suppressed' | 'resolved';
  fixed?: string;
  kev?: boolean;
}

export interface SeedImage {
  digest: string;
  repository: string;
  track?: string;
  current?: boolean;
  tags?: string[];
  platform?: string;
  /** Epoch ms: first seen, ingested. */
  at: number;
  state?: 'active' | 'quarantined' | 'retired';
  evidence?: 'verified' | 'partial' | 'failed' | 'none';
  packages?: SeedPackage[];
  findings?: SeedFinding[];
  layers?: { diffId: string; size: number; createdBy?: string }[];
  artifacts?: {
    sha256: string;
    kind: string;
    role: 'inventory' | 'report' | 'provenance' | 'attestation' | 'signature' | 'vex';
    mediaType: string;
    size: number;
  }[];
  events?: { type: string; at: number; data?: Record<string, unknown> }[];
}

const RANK = { CRITICAL: 10, HIGH: 5, MEDIUM: 2, LOW: 1, UNKNOWN: 0 } as const;

/** Inserts the images (and whatever they name that is not there yet); returns image and repository ids by name. */
export async function seedImages(db: Kysely<Database>, images: readonly SeedImage[]) {
  const repositoryIds = new Map<string, number>();
  const imageIds = new Map<string, number>();
  for (const image of images) {
    const repositoryId = await ensureRepository(db, image.repository, image.at, repositoryIds);
    const open = (image.findings ?? []).filter((f) => (f.status ?? 'open') === 'open');
    const count = (s: SeedFinding['severity']) => open.filter((f) => f.severity === s).length;
    const inserted = await db
      .insertInto('images')
      .values({
        digest: image.digest,
        platform: image.platform ?? 'linux/amd64',
        os_ecosystem: 'Alpine:v3.16',
        first_ingested_at: image.at,
        last_ingested_at: image.at,
        state: image.state ?? 'active',
        critical: count('CRITICAL'),
        high: count('HIGH'),
        medium: count('MEDIUM'),
        low: count('LOW'),
        unknown: count('UNKNOWN'),
        suppressed: (image.findings ?? []).filter((f) => f.status === 'suppressed').length,
        packages: (image.packages ?? []).length,
        has_kev: open.some((f) => f.kev) ? 1 : 0,
        risk_index: open.reduce((sum, f) => sum + RANK[f.severity], 0),
        evidence_state: image.evidence ?? 'none',
        evidence_score: image.evidence === 'verified' ? 9 : 0,
        evidence_max: 9,
        created_at: image.at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const imageId = inserted.id;
    imageIds.set(image.digest, imageId);
    const track = image.track ?? 'default';
    if (image.current !== false) {
      // The newest image of a track is its current one: the one before stops being current.
      await db
        .updateTable('repository_images')
        .set({ is_current: 0 })
        .where('repository_id', '=', repositoryId)
        .where('track', '=', track)
        .execute();
    }
    await db
      .insertInto('repository_images')
      .values({
        repository_id: repositoryId,
        image_id: imageId,
        track,
        first_seen_at: image.at,
        is_current: image.current === false ? 0 : 1,
        created_at: image.at,
      })
      .execute();
    for (const tag of image.tags ?? []) await moveTag(db, repositoryId, tag, imageId, image.at);
    const packageIds = new Map<string, number>();
    for (const p of image.packages ?? []) {
      const id = await ensurePackage(db, p, image.at);
      packageIds.set(p.name, id);
      await db
        .insertInto('package_occurrences')
        .values({
          image_id: imageId,
          package_id: id,
          path: p.path ?? 'lib/apk/db/installed',
          found_by: 'apk',
          created_at: image.at,
        })
        .execute();
    }
    for (const f of image.findings ?? []) {
      const vulnerabilityId = await ensureVulnerability(db, f, image.at);
      const packageId = packageIds.get(f.package);
      if (packageId === undefined)
        throw new Error(`seed: finding ${f.vuln} names ${f.package}, not a package of ${image.digest}`);
      await db
        .insertInto('findings')
        .values({
          image_id: imageId,
          package_id: packageId,
          vulnerability_id: vulnerabilityId,
          severity: f.severity,
          fixed_version: f.fixed ?? null,
          status: f.status ?? 'open',
          first_seen_at: image.at,
          last_seen_at: image.at,
          detected_by: 'ingest',
          created_at: image.at,
        })
        .execute();
    }
    for (const [position, layer] of (image.layers ?? []).entries()) {
      const existing = await db
        .selectFrom('layers')
        .select('id')
        .where('diff_id', '=', layer.diffId)
        .executeTakeFirst();
      const layerId =
        existing?.id ??
        (
          await db
            .insertInto('layers')
            .values({ diff_id: layer.diffId, digest: null, size: layer.size, created_at: image.at })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id;
      await db
        .insertInto('image_layers')
        .values({
          image_id: imageId,
          position,
          layer_id: layerId,
          created_by: layer.createdBy ?? null,
          created_at: image.at,
        })
        .execute();
    }
    for (const a of image.artifacts ?? []) {
      const existing = await db.selectFrom('artifacts').select('id').where('sha256', '=', a.sha256).executeTakeFirst();
      const artifactId =
        existing?.id ??
        (
          await db
            .insertInto('artifacts')
            .values({
              sha256: a.sha256,
              kind: a.kind,
              media_type: a.mediaType,
              size: a.size,
              storage_key: `cas/sha256/${a.sha256.slice(0, 2)}/${a.sha256.slice(2, 4)}/${a.sha256}`,
              created_at: image.at,
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id;
      await db
        .insertInto('image_artifacts')
        .values({
          image_id: imageId,
          artifact_id: artifactId,
          role: a.role,
          predicate_type: null,
          job_id: null,
          created_at: image.at,
        })
        .execute();
    }
    for (const e of image.events ?? []) {
      await db
        .insertInto('events')
        .values({
          at: e.at,
          type: e.type,
          actor_kind: 'system',
          actor_id: null,
          repository_id: repositoryId,
          image_id: imageId,
          vulnerability_id: null,
          severity: null,
          request_id: null,
          data: JSON.stringify(e.data ?? {}),
          created_at: e.at,
        })
        .execute();
    }
  }
  return { repositoryIds, imageIds };
}

async function ensureRepository(db: Kysely<Database>, name: string, at: number, known: Map<string, number>) {
  const cached = known.get(name);
  if (cached !== undefined) return cached;
  const existing = await db.selectFrom('repositories').select('id').where('name', '=', name).executeTakeFirst();
  const id =
    existing?.id ??
    (
      await db
        .insertInto('repositories')
        .values({
          public_id: `repo_${name.replace(/[^a-z0-9]/gi, '').slice(-20)}`,
          name,
          name_lc: name.toLowerCase(),
          team_id: null,
          source_repo: null,
          archived_at: null,
          purge_after: null,
          created_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  known.set(name, id);
  return id;
}

async function moveTag(db: Kysely<Database>, repositoryId: number, name: string, imageId: number, at: number) {
  const tag = await db
    .selectFrom('tags')
    .select('id')
    .where('repository_id', '=', repositoryId)
    .where('name', '=', name)
    .executeTakeFirst();
  let tagId: number;
  if (tag) {
    tagId = tag.id;
    await db.updateTable('tags').set({ current_image_id: imageId, moved_at: at }).where('id', '=', tagId).execute();
    await db
      .updateTable('tag_history')
      .set({ to_at: at })
      .where('tag_id', '=', tagId)
      .where('to_at', 'is', null)
      .execute();
  } else {
    tagId = (
      await db
        .insertInto('tags')
        .values({ repository_id: repositoryId, name, current_image_id: imageId, moved_at: at, created_at: at })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  }
  await db
    .insertInto('tag_history')
    .values({ tag_id: tagId, image_id: imageId, from_at: at, to_at: null, source: 'ci', created_at: at })
    .execute();
}

async function ensurePackage(db: Kysely<Database>, p: SeedPackage, at: number) {
  const existing = await db.selectFrom('packages').select('id').where('purl', '=', p.purl).executeTakeFirst();
  if (existing) return existing.id;
  return (
    await db
      .insertInto('packages')
      .values({
        purl: p.purl,
        type: p.type,
        name: p.name,
        name_lc: p.name.toLowerCase(),
        version: p.version,
        ecosystem: p.ecosystem ?? null,
        match_name: p.name,
        match_version: p.version,
        created_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
}

async function ensureVulnerability(db: Kysely<Database>, f: SeedFinding, at: number) {
  const existing = await db.selectFrom('vulnerabilities').select('id').where('vuln_id', '=', f.vuln).executeTakeFirst();
  if (existing) return existing.id;
  const aliases = [f.vuln, ...(f.aliases ?? [])];
  const id = (
    await db
      .insertInto('vulnerabilities')
      .values({
        vuln_id: f.vuln,
        aliases: JSON.stringify(f.aliases ?? []),
        summary: `${f.vuln} in ${f.package}`,
        severity: f.severity,
        cvss: null,
        epss: null,
        kev: f.kev ? 1 : 0,
        kev_added_at: null,
        published_at: at,
        modified_at: at,
        withdrawn_at: null,
        created_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  for (const alias of aliases) {
    await db.insertInto('vuln_aliases').values({ alias, vulnerability_id: id, created_at: at }).execute();
  }
  return id;
}
