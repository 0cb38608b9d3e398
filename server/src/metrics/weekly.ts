// The weekly security summary v3 on the server (SERVER.md section 3): the engine's `weeklySummary` (the same code
// `lading summary` runs) over each repository's current image of track `default` (quarantined images are never
// current, so never counted), stored once per scope and ISO week as the exact bytes served, and published to the blob
// store under their SHA-256 (the row's `sha256` is the blob's digest; an `artifacts` row of kind `summary-weekly`
// names the blob, so orphan collection keeps it), where a static dashboard or an archive reads the same bytes.
import { renderWeeklySummary, type SummaryInput, type WeeklySummary, weeklySummary } from '@lading/engine/summary';
import type { Kysely } from 'kysely';
import { type BlobStore, blobKey } from '../blobs/index.js';
import type { Database } from '../db/schema.js';
import { currentImages, DAY_MS } from './compute.js';
import { dayStart, weekStart } from './daily.js';
import type { MetricsScope } from './scope.js';

/** The `artifacts.kind` of a published weekly summary. */
export const SUMMARY_ARTIFACT_KIND = 'summary-weekly';
/** A summary is a few kilobytes per repository; this bounds what one may take in the blob store. */
const MAX_SUMMARY_BYTES = 64 * 1024 * 1024;

/**
 * Puts a summary's bytes in the blob store (content-addressed: a second put of the same bytes changes nothing) and
 * records the blob as an artifact, so that orphan collection never removes it. Returns the blob's digest.
 */
export async function publishSummary(
  db: Kysely<Database>,
  blobs: BlobStore,
  document: string,
  now: number,
): Promise<string> {
  const bytes = Buffer.from(document, 'utf8');
  const { sha256 } = await blobs.put(bytes, { maxBytes: MAX_SUMMARY_BYTES });
  await db
    .insertInto('artifacts')
    .values({
      sha256,
      kind: SUMMARY_ARTIFACT_KIND,
      media_type: 'application/json',
      size: bytes.length,
      storage_key: blobKey(sha256),
      first_job_id: null,
      created_at: now,
    })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
  return sha256;
}

/** Trend points a summary keeps (half a year of weeks, the CLI's default). */
const TREND_KEEP = 26;

export interface StoredSummary {
  scope: string;
  week: string;
  periodStart: number;
  document: string;
  sha256: string;
}

/** `2026-W47` of a week's Monday (ISO 8601 week numbering: the week with the year's first Thursday is week 1). */
export function isoWeekName(monday: number): string {
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const firstThursday = weekStart(Date.UTC(year, 0, 4)) + 3 * DAY_MS;
  const week = 1 + Math.round((thursday.getTime() - firstThursday) / (7 * DAY_MS));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The Monday of `2026-W47`, or undefined when the name is not a week. */
export function weekOfName(name: string): number | undefined {
  const m = /^([0-9]{4})-W([0-9]{2})$/.exec(name);
  if (!m) return undefined;
  const year = Number(m[1]);
  const week = Number(m[2]);
  if (week < 1 || week > 53) return undefined;
  const monday = weekStart(Date.UTC(year, 0, 4)) + (week - 1) * 7 * DAY_MS;
  return isoWeekName(monday) === name ? monday : undefined;
}

/**
 * Makes and stores the summary of `scope` for the week starting `periodStart` (a Monday), unless one is stored:
 * a week's summary is written once, so its bytes never change. Returns the stored one.
 */
export async function storeWeeklySummary(
  db: Kysely<Database>,
  blobs: BlobStore,
  scope: MetricsScope,
  periodStart: number,
  now: number,
): Promise<StoredSummary> {
  const existing = await db
    .selectFrom('summaries')
    .select(['document', 'sha256', 'period_start'])
    .where('kind', '=', 'weekly')
    .where('scope', '=', scope.key)
    .where('period_start', '=', periodStart)
    .executeTakeFirst();
  if (existing) {
    // published again when the blob is missing (a summary stored before publishing existed, or a crash between)
    if (!(await blobs.has(existing.sha256))) await publishSummary(db, blobs, existing.document, now);
    return stored(scope.key, existing);
  }
  const previousRow = await db
    .selectFrom('summaries')
    .select(['document'])
    .where('kind', '=', 'weekly')
    .where('scope', '=', scope.key)
    .where('period_start', '<', periodStart)
    .orderBy('period_start', 'desc')
    .executeTakeFirst();
  const previous = previousRow ? (JSON.parse(previousRow.document) as WeeklySummary) : undefined;
  const images = await currentImages(db, scope.repositoryIds, 'default');
  const names = new Map(
    (
      await db
        .selectFrom('repositories')
        .select(['id', 'name'])
        .where('id', 'in', [...scope.repositoryIds, -1])
        .execute()
    ).map((r) => [r.id, r.name]),
  );
  const inputs: SummaryInput[] = images.map((image) => ({
    kind: 'read',
    file: `image ${image.id}`,
    name: names.get(image.repositoryId) ?? String(image.repositoryId),
    digest: image.digest,
    createdAt: new Date(now).toISOString(),
    counts: {
      critical: image.critical,
      high: image.high,
      medium: image.medium,
      low: image.low,
      unknown: image.unknown,
    },
  }));
  const end = periodStart + 7 * DAY_MS;
  const summary = weeklySummary(inputs, {
    ...(previous ? { previous } : {}),
    now: new Date(now),
    period: { start: new Date(periodStart), end: new Date(end) },
  });
  // the trend: the scope's daily points (metrics_daily) before the period's end, the newest 26
  const daily = await db
    .selectFrom('metrics_daily')
    .select(['day', 'critical', 'high', 'medium'])
    .where('scope', '=', scope.key)
    .where('day', '<', end)
    .orderBy('day', 'desc')
    .limit(TREND_KEEP)
    .execute();
  if (daily.length > 0) {
    summary.trend = daily.reverse().map((d) => ({
      date: new Date(Number(d.day)).toISOString().slice(0, 10),
      critical: d.critical,
      high: d.high,
      medium: d.medium,
    }));
  }
  // the server's sources: the counted digests (the CLI's form names report files, which the server has not)
  // and the vulnerability data generation the server's findings were matched with at the time
  const generation = await db
    .selectFrom('db_generations')
    .select(['id', 'finished_at'])
    .where('state', '=', 'done')
    .where('finished_at', '<=', now)
    .orderBy('finished_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  summary.sources = [
    ...images.map((image) => `${names.get(image.repositoryId)}@${image.digest}`).sort(),
    ...(generation?.finished_at != null
      ? [`vulndb:gen-${generation.id}@${new Date(Number(generation.finished_at)).toISOString().replace('.000Z', 'Z')}`]
      : []),
  ];
  const document = renderWeeklySummary(summary);
  // the blob first: a summary row always names bytes the store holds
  const sha256 = await publishSummary(db, blobs, document, now);
  await db
    .insertInto('summaries')
    .values({
      kind: 'weekly',
      scope: scope.key,
      period_start: periodStart,
      version: 3,
      document,
      sha256,
      generated_at: now,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['kind', 'scope', 'period_start']).doNothing())
    .execute();
  const row = await db
    .selectFrom('summaries')
    .select(['document', 'sha256', 'period_start'])
    .where('kind', '=', 'weekly')
    .where('scope', '=', scope.key)
    .where('period_start', '=', periodStart)
    .executeTakeFirstOrThrow();
  return stored(scope.key, row);
}

/** The week a summary made at `now` covers: the last complete ISO week (Monday 06:00 makes the week before). */
export function lastCompleteWeek(now: number): number {
  return weekStart(dayStart(now)) - 7 * DAY_MS;
}

function stored(scope: string, row: { document: string; sha256: string; period_start: number }): StoredSummary {
  const periodStart = Number(row.period_start);
  return { scope, week: isoWeekName(periodStart), periodStart, document: row.document, sha256: row.sha256 };
}
