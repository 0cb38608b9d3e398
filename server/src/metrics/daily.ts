// Daily trend points (SERVER.md section 1, `metrics_daily`): the `metrics.daily` job records, per UTC day and scope
// (fleet, each team, each repository), the current images' counts and the exposures opened and resolved that day.
// One row per day and scope: a re-run of the same day replaces its own row (idempotent), earlier days are never
// touched (append-only).
import { riskIndex } from '@lading/engine/summary';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { currentImages, DAY_MS, episodesOf } from './compute.js';
import { allScopes } from './scope.js';

export interface TrendPoint {
  date: string;
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  newFindings: number;
  resolvedFindings: number;
  riskIndex: number;
}

export const dayStart = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/** Records the point of `now`'s UTC day for every scope; returns how many scopes were written. */
export async function recordDailyMetrics(db: Kysely<Database>, now: number): Promise<number> {
  const day = dayStart(now);
  const scopes = await allScopes(db);
  for (const scope of scopes) {
    const [images, episodes] = await Promise.all([
      currentImages(db, scope.repositoryIds),
      episodesOf(db, scope.repositoryIds, day + DAY_MS),
    ]);
    const totals = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, suppressed: 0, packages: 0 };
    let failing = 0;
    for (const image of images) {
      totals.critical += image.critical;
      totals.high += image.high;
      totals.medium += image.medium;
      totals.low += image.low;
      totals.unknown += image.unknown;
      totals.suppressed += image.suppressed;
      totals.packages += image.packages;
      // the CLI's default threshold: an image with any HIGH or CRITICAL finding fails
      if (image.critical + image.high > 0) failing += 1;
    }
    const inDay = (t: number | null) => t !== null && t >= day && t < day + DAY_MS;
    const values = {
      critical: totals.critical,
      high: totals.high,
      medium: totals.medium,
      low: totals.low,
      unknown: totals.unknown,
      suppressed: totals.suppressed,
      images: images.length,
      packages: totals.packages,
      new_findings: episodes.filter((e) => inDay(e.openedAt)).length,
      resolved_findings: episodes.filter((e) => inDay(e.resolvedAt)).length,
      risk_index: riskIndex(totals),
      threshold_fail_images: failing,
    };
    await db
      .insertInto('metrics_daily')
      .values({ day, scope: scope.key, ...values, created_at: now })
      .onConflict((oc) => oc.columns(['day', 'scope']).doUpdateSet(values))
      .execute();
  }
  return scopes.length;
}

/**
 * The stored points of a scope between `from` and `to` (inclusive days). Weekly: one point per ISO week (dated
 * by its Monday) with the week's last recorded levels and the sums of its new and resolved counts.
 */
export async function trendPoints(
  db: Kysely<Database>,
  scopeKey: string,
  from: number,
  to: number,
  interval: 'day' | 'week',
): Promise<TrendPoint[]> {
  const rows = await db
    .selectFrom('metrics_daily')
    .selectAll()
    .where('scope', '=', scopeKey)
    .where('day', '>=', dayStart(from))
    .where('day', '<=', dayStart(to))
    .orderBy('day')
    .execute();
  const points = rows.map((r) => ({
    day: Number(r.day),
    point: {
      date: new Date(Number(r.day)).toISOString().slice(0, 10),
      critical: r.critical,
      high: r.high,
      medium: r.medium,
      low: r.low,
      unknown: r.unknown,
      newFindings: r.new_findings,
      resolvedFindings: r.resolved_findings,
      riskIndex: Number(r.risk_index),
    },
  }));
  if (interval === 'day') return points.map((p) => p.point);
  const weeks = new Map<number, TrendPoint>();
  for (const { day, point } of points) {
    const monday = weekStart(day);
    const seen = weeks.get(monday);
    weeks.set(monday, {
      ...point,
      date: new Date(monday).toISOString().slice(0, 10),
      newFindings: (seen?.newFindings ?? 0) + point.newFindings,
      resolvedFindings: (seen?.resolvedFindings ?? 0) + point.resolvedFindings,
    });
  }
  return [...weeks.values()];
}

/** The Monday 00:00 UTC that starts the ISO week of `ms`. */
export function weekStart(ms: number): number {
  const day = dayStart(ms);
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * DAY_MS;
}
