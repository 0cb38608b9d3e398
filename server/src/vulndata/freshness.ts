// How fresh the server's vulnerability data is (GET /api/v1/system/vulndb): the current data generation from the
// database (with whether an update or an offline import made it, from that generation's event), each ecosystem's
// newest advisory `modified` time and record count as the store records them, when KEV and EPSS were refreshed,
// the matcher version, and the last `vulndb.update` job. Only small reads: the store's ecosystems and meta tables
// and two counts, never a scan of its advisories (the per-release breakdown of `lading db status` groups every
// package row, too slow for a page that loads on every visit).

import { LADING_VERSION } from '@lading/engine/version';
import { VulnStoreReader } from '@lading/engine/vulndb';
import type { ServerContext } from '../context.js';
import { decodeJson } from '../db/dialect.js';
import { scheduleKey } from '../jobs/schedules.js';
import { VULNDB_DEDUPE_KEY, VULNDB_UPDATE } from './jobs.js';

export type VulndbDataStatus = 'ready' | 'no-data' | 'unreadable';

export interface GenerationFreshness {
  readonly id: number;
  /** Whether `vulndb.update` or `vulndb.import` made it; null when its event is not found. */
  readonly source: 'update' | 'import' | null;
  readonly createdAt: string;
  /** When it was recorded (the update or import finished). */
  readonly finishedAt: string;
  readonly matcherVersion: string;
  readonly changedPackages: number;
}

export interface EcosystemFreshness {
  readonly ecosystem: string;
  readonly records: number;
  /** Newest `modified` time among its advisories: how current the data itself is. */
  readonly newestRecord: string | null;
  /** When it was last updated or imported (an import today of year-old records is still year-old data). */
  readonly updatedAt: string | null;
  /** How the store last filled it (its origin URL or file is not shown: a server path is nobody's business). */
  readonly source: 'update' | 'import' | null;
  /** The whole dump is loaded, not only records named one by one. */
  readonly wholeDump: boolean;
}

export interface VulndbFreshness {
  /** `no-data` until the first update or import: not an error, the summary says what to do. */
  readonly status: VulndbDataStatus;
  /** One sentence for people. */
  readonly summary: string;
  /** The matcher of this server (a new one re-matches every package at the next generation). */
  readonly matcherVersion: string;
  readonly generation: GenerationFreshness | null;
  readonly ecosystems: readonly EcosystemFreshness[];
  /** Newest `modified` over every ecosystem. */
  readonly newestRecord: string | null;
  readonly kev: { readonly entries: number; readonly catalogVersion: string | null; readonly updatedAt: string | null };
  readonly epss: {
    readonly scores: number;
    readonly modelVersion: string | null;
    readonly scoreDate: string | null;
    readonly updatedAt: string | null;
  };
  readonly lastUpdateJob: {
    readonly id: string;
    readonly state: string;
    readonly createdAt: string;
    readonly startedAt: string | null;
    readonly finishedAt: string | null;
    readonly error: string | null;
  } | null;
}

interface StoreFacts {
  readonly ecosystems: EcosystemFreshness[];
  readonly kev: VulndbFreshness['kev'];
  readonly epss: VulndbFreshness['epss'];
}

const EMPTY_STORE: StoreFacts = {
  ecosystems: [],
  kev: { entries: 0, catalogVersion: null, updatedAt: null },
  epss: { scores: 0, modelVersion: null, scoreDate: null, updatedAt: null },
};

const iso = (ms: number | string | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

/** The freshness of the store at `dbDir` and of the generations the database records. */
export async function vulndbFreshness(ctx: ServerContext, dbDir: string): Promise<VulndbFreshness> {
  const [generation, lastUpdateJob] = await Promise.all([currentGeneration(ctx), lastUpdate(ctx)]);
  let store: StoreFacts = EMPTY_STORE;
  let problem: string | undefined;
  try {
    store = readStore(dbDir);
  } catch (error) {
    // a store of an older layout or a damaged file: said in the answer, never a 500 for a status page
    problem = (error instanceof Error ? error.message : String(error)).split('\n')[0]?.replaceAll(dbDir, '<vulndb>');
  }
  const newestRecord = store.ecosystems.reduce<string | null>(
    (newest, e) => (e.newestRecord !== null && (newest === null || e.newestRecord > newest) ? e.newestRecord : newest),
    null,
  );
  const hasData = generation !== null || store.ecosystems.some((e) => e.records > 0);
  const status: VulndbDataStatus = problem !== undefined ? 'unreadable' : hasData ? 'ready' : 'no-data';
  return {
    status,
    summary:
      status === 'unreadable'
        ? `the vulnerability store cannot be read: ${problem}`
        : status === 'no-data'
          ? 'no vulnerability data yet: the nightly update (03:00 UTC) fetches it, or an administrator starts an update or imports a dump'
          : generation !== null
            ? `generation ${generation.id}${generation.source ? ` (${generation.source})` : ''} recorded ${generation.finishedAt}; newest advisory modified ${newestRecord ?? 'unknown'}`
            : `no data generation recorded yet; newest advisory modified ${newestRecord ?? 'unknown'}`,
    matcherVersion: LADING_VERSION,
    generation,
    ecosystems: store.ecosystems,
    newestRecord,
    kev: store.kev,
    epss: store.epss,
    lastUpdateJob,
  };
}

function readStore(dbDir: string): StoreFacts {
  const store = VulnStoreReader.open(dbDir);
  if (!store) return EMPTY_STORE;
  try {
    return {
      ecosystems: store
        .ecosystems()
        .filter((e) => e.records > 0 || e.updatedAt !== undefined)
        .map((e) => ({
          ecosystem: e.name,
          records: e.records,
          newestRecord: e.highWater ?? null,
          updatedAt: e.updatedAt ?? null,
          source: e.origin === undefined ? null : e.origin.startsWith('import:') ? 'import' : 'update',
          wholeDump: e.fullAt !== undefined,
        })),
      kev: {
        entries: store.count('kev'),
        catalogVersion: store.meta('kev.catalogVersion') ?? null,
        updatedAt: store.meta('kev.updatedAt') ?? null,
      },
      epss: {
        scores: store.count('epss'),
        modelVersion: store.meta('epss.modelVersion') ?? null,
        scoreDate: store.meta('epss.scoreDate') ?? null,
        updatedAt: store.meta('epss.updatedAt') ?? null,
      },
    };
  } finally {
    store.close();
  }
}

/** The newest finished generation, and which kind of job made it (its event, written in the same transaction). */
async function currentGeneration(ctx: ServerContext): Promise<GenerationFreshness | null> {
  const row = await ctx.db
    .selectFrom('db_generations')
    .select(['id', 'created_at', 'finished_at', 'matcher_version', 'changed_count'])
    .where('state', '=', 'done')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  const id = Number(row.id);
  // events_type_idx (type, id): the newest few of each kind, one of which names this generation
  const events = await ctx.db
    .selectFrom('events')
    .select(['type', 'data'])
    .where('type', 'in', ['vulndb.updated', 'vulndb.imported'])
    .orderBy('id', 'desc')
    .limit(10)
    .execute();
  const event = events.find((e) => decodeJson<{ generation?: unknown }>(e.data as string)?.generation === id);
  return {
    id,
    source: event === undefined ? null : event.type === 'vulndb.imported' ? 'import' : 'update',
    createdAt: iso(row.created_at) ?? '',
    finishedAt: iso(row.finished_at) ?? iso(row.created_at) ?? '',
    matcherVersion: row.matcher_version,
    changedPackages: Number(row.changed_count),
  };
}

/** The newest `vulndb.update` job, whether an administrator or the nightly schedule queued it. */
async function lastUpdate(ctx: ServerContext): Promise<VulndbFreshness['lastUpdateJob']> {
  const row = await ctx.db
    .selectFrom('jobs')
    .select(['public_id', 'state', 'created_at', 'started_at', 'finished_at', 'error'])
    // both dedupe keys: jobs_dedupe_idx (dedupe_key, id) finds them without reading the whole queue
    .where('dedupe_key', 'in', [VULNDB_DEDUPE_KEY, scheduleKey(VULNDB_UPDATE)])
    .where('kind', '=', VULNDB_UPDATE)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  return {
    id: row.public_id,
    state: row.state,
    createdAt: iso(row.created_at) ?? '',
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    error: decodeJson<{ message?: string }>(row.error)?.message ?? null,
  };
}
