// The server's vulnerability data update (SERVER.md section 3, "Re-analysis after a data update", step 1): the CLI's
// incremental OSV update (`lading db update`: modified_id.csv, all.zip when due) into the server's store, KEV and
// EPSS refreshed the same way, then one `db_generations` row with the (ecosystem, package) pairs whose advisories
// changed in `db_changes`: what re-analysis matches again.
import { LADING_VERSION } from '@lading/engine/version';
import { importPaths, type PackageKey, type SourceUrls, updateStore, VulnStoreWriter } from '@lading/engine/vulndb';
import type { ServerContext } from '../context.js';
import { recordEvent, SYSTEM_ACTOR } from '../events/index.js';
import { enqueue } from '../jobs/queue.js';

/** db_changes rows per INSERT (PostgreSQL takes at most 65,535 parameters; 3 per row). */
const CHANGE_CHUNK = 1_000;

export interface GenerationResult {
  readonly generation: number;
  readonly changed: number;
  readonly ecosystems: readonly { ecosystem: string; mode: string; records: number; changed: number }[];
  readonly kev?: number;
  readonly epss?: number;
  readonly warnings: readonly string[];
}

export interface UpdateRequest {
  /** The store (a `lading db` folder). */
  readonly dbDir: string;
  readonly sources: SourceUrls;
  /** Ecosystems to add to those the store already holds (the first update of an empty store needs some). */
  readonly ecosystems?: readonly string[];
  readonly full?: boolean;
  readonly signal?: AbortSignal;
}

/** Runs the update and records its generation; a failed update records a failed generation and rethrows. */
export async function updateVulnerabilityData(ctx: ServerContext, request: UpdateRequest): Promise<GenerationResult> {
  return withGeneration(ctx, 'update', async () => {
    const store = VulnStoreWriter.open(request.dbDir);
    try {
      const summary = await updateStore(store, {
        ecosystems: [...(request.ecosystems ?? [])],
        sources: request.sources,
        now: new Date(ctx.now()),
        full: request.full === true,
        tempDir: request.dbDir,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      return {
        changedPackages: summary.changedPackages,
        ecosystems: summary.ecosystems.map((e) => ({
          ecosystem: e.ecosystem,
          mode: e.mode,
          records: e.records,
          changed: e.changed,
        })),
        ...(summary.kev !== undefined ? { kev: summary.kev } : {}),
        ...(summary.epss !== undefined ? { epss: summary.epss } : {}),
        warnings: summary.warnings.map((w) => w.message),
      };
    } finally {
      store.close();
    }
  });
}

/** Offline installations: a zip dump, OSV records, a KEV catalog or an EPSS CSV imported from local files. */
export async function importVulnerabilityData(
  ctx: ServerContext,
  dbDir: string,
  paths: readonly string[],
): Promise<GenerationResult> {
  return withGeneration(ctx, 'import', async () => {
    const store = VulnStoreWriter.open(dbDir);
    try {
      const summary = await importPaths(store, [...paths], new Date(ctx.now()));
      return {
        changedPackages: summary.changedPackages,
        ecosystems: summary.ecosystems.map((ecosystem) => ({ ecosystem, mode: 'import', records: 0, changed: 0 })),
        ...(summary.kev !== undefined ? { kev: summary.kev } : {}),
        ...(summary.epss !== undefined ? { epss: summary.epss } : {}),
        warnings: summary.warnings.map((w) => w.message),
      };
    } finally {
      store.close();
    }
  });
}

interface StoreChange {
  readonly changedPackages: readonly PackageKey[];
  readonly ecosystems: GenerationResult['ecosystems'];
  readonly kev?: number;
  readonly epss?: number;
  readonly warnings: readonly string[];
}

async function withGeneration(
  ctx: ServerContext,
  how: 'update' | 'import',
  change: () => Promise<StoreChange>,
): Promise<GenerationResult> {
  const started = await ctx.db
    .insertInto('db_generations')
    .values({
      finished_at: null,
      matcher_version: LADING_VERSION,
      changed_count: 0,
      snapshot_key: null,
      state: 'running',
      created_at: ctx.now(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const generation = Number(started.id);
  let result: StoreChange;
  try {
    result = await change();
  } catch (error) {
    await ctx.db
      .updateTable('db_generations')
      .set({ state: 'failed', finished_at: ctx.now() })
      .where('id', '=', generation)
      .execute();
    throw error;
  }
  const now = ctx.now();
  const changes = uniquePairs(result.changedPackages);
  await ctx.db.transaction().execute(async (trx) => {
    for (let i = 0; i < changes.length; i += CHANGE_CHUNK) {
      await trx
        .insertInto('db_changes')
        .values(
          changes.slice(i, i + CHANGE_CHUNK).map((p) => ({
            generation_id: generation,
            ecosystem: p.ecosystem,
            package_name: p.name,
            created_at: now,
          })),
        )
        .execute();
    }
    await trx
      .updateTable('db_generations')
      .set({ state: 'done', finished_at: now, changed_count: changes.length })
      .where('id', '=', generation)
      .execute();
    await recordEvent(trx, {
      at: now,
      type: how === 'update' ? 'vulndb.updated' : 'vulndb.imported',
      actor: SYSTEM_ACTOR,
      data: {
        generation,
        changedPackages: changes.length,
        ecosystems: result.ecosystems,
        ...(result.kev !== undefined ? { kev: result.kev } : {}),
        ...(result.epss !== undefined ? { epss: result.epss } : {}),
        warnings: result.warnings.length,
      },
    });
    // re-analysis of what changed, queued with the generation that names it (reanalysis/reanalyze.ts); when the
    // matcher changed since the last generation, every package is matched again
    const previous = await trx
      .selectFrom('db_generations')
      .select('matcher_version')
      .where('state', '=', 'done')
      .where('id', '<', generation)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    const everything = previous !== undefined && previous.matcher_version !== LADING_VERSION;
    // a refreshed KEV catalog may list a CVE the server's images have: the job's kev step alerts those
    if (changes.length > 0 || everything || result.kev !== undefined) {
      await enqueue(trx, now, {
        kind: 'reanalyze',
        payload: { generation, ...(everything ? { everything: true } : {}) },
        dedupeKey: `reanalyze:${generation}`,
        createdBy: 'system',
      });
    }
  });
  ctx.jobSignals.enqueued();
  return {
    generation,
    changed: changes.length,
    ecosystems: result.ecosystems,
    ...(result.kev !== undefined ? { kev: result.kev } : {}),
    ...(result.epss !== undefined ? { epss: result.epss } : {}),
    warnings: result.warnings,
  };
}

/** The engine's list is sorted and merged already; kept unique here too, as db_changes has no key to refuse repeats. */
function uniquePairs(keys: readonly PackageKey[]): PackageKey[] {
  const seen = new Set<string>();
  const out: PackageKey[] = [];
  for (const k of keys) {
    const key = `${k.ecosystem}\u0000${k.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(k);
  }
  return out;
}
