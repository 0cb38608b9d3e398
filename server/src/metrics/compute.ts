// Fleet metrics (SERVER.md section 3, "Metrics"; PIPELINE.md 3.2 (c)), computed from exposure EPISODES (each
// open → resolved run of a vulnerability in a package on a repository track), never from snapshots: a snapshot
// diff cannot tell when something was fixed, only that it is gone (DefectDojo #9735). The clock is an argument.

import { riskIndex } from '@lading/engine/summary';
import { quantile } from '@lading/engine/trace';
import type { Kysely } from 'kysely';
import { decodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';

export const DAY_MS = 86_400_000;
export const SEVERITY_NAMES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type SeverityKey = (typeof SEVERITY_NAMES)[number];
/** Severities that have an SLA target. */
export const SLA_SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type SlaTargets = Record<(typeof SLA_SEVERITIES)[number], number>;
/** DefectDojo's defaults (days to fix), overridable in settings under SLA_SETTING. */
export const DEFAULT_SLA_DAYS: SlaTargets = { critical: 7, high: 30, medium: 90, low: 120 };
export const SLA_SETTING = 'metrics.slaDays';

export interface MttrStats {
  /** Episodes resolved in the window. */
  n: number;
  meanDays: number | null;
  medianDays: number | null;
  p90Days: number | null;
}
export interface OpenAges {
  /** Episodes open at the window's end, with their age then (not dropped from the picture, not averaged in). */
  n: number;
  medianDays: number | null;
  maxDays: number | null;
}
export interface SlaRow {
  targetDays: number;
  open: number;
  /** Open episodes older than the target. */
  openBreaches: number;
  /** Episodes resolved in the window that took longer than the target. */
  resolvedLate: number;
  resolvedInTime: number;
}
export interface FleetMetrics {
  window: { from: string; to: string };
  repositories: number;
  images: number;
  mttrDays: Record<SeverityKey, MttrStats>;
  openAgesDays: Record<SeverityKey, OpenAges>;
  sla: Record<(typeof SLA_SEVERITIES)[number], SlaRow>;
  density: { openFindings: number; packages: number; perImage: number | null; per100Packages: number | null };
  riskIndex: { summary: number; meanPerImage: number | null; max: number | null };
  exposures: { open: number; opened: number; resolved: number; reopened: number };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const days = (ms: number): number => ms / DAY_MS;

export function severityKey(severity: string): SeverityKey {
  const key = severity.toLowerCase();
  return (SEVERITY_NAMES as readonly string[]).includes(key) ? (key as SeverityKey) : 'unknown';
}

/** The SLA targets from settings (any severity not given keeps its default). */
export async function slaTargets(db: Kysely<Database>): Promise<SlaTargets> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', SLA_SETTING).executeTakeFirst();
  const stored = decodeJson<Partial<Record<string, unknown>>>(row?.value) ?? {};
  const out = { ...DEFAULT_SLA_DAYS };
  for (const s of SLA_SEVERITIES) {
    const v = stored[s];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[s] = v;
  }
  return out;
}

export interface CurrentImage {
  id: number;
  repositoryId: number;
  digest: string;
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  suppressed: number;
  packages: number;
  riskIndex: number;
}

/** The current (non-quarantined) image of each track of these repositories. */
export async function currentImages(
  db: Kysely<Database>,
  repositoryIds: readonly number[],
  track?: string,
): Promise<CurrentImage[]> {
  if (repositoryIds.length === 0) return [];
  let q = db
    .selectFrom('repository_images as ri')
    .innerJoin('images as i', 'i.id', 'ri.image_id')
    .innerJoin('repositories as r', 'r.id', 'ri.repository_id')
    .select([
      'i.id',
      'ri.repository_id as repositoryId',
      'i.digest',
      'i.critical',
      'i.high',
      'i.medium',
      'i.low',
      'i.unknown',
      'i.suppressed',
      'i.packages',
      'i.risk_index as riskIndex',
    ])
    .where('ri.is_current', '=', 1)
    .where('i.state', '!=', 'quarantined')
    .where('r.archived_at', 'is', null)
    .where('ri.repository_id', 'in', [...repositoryIds])
    .orderBy('ri.repository_id')
    .orderBy('i.id');
  if (track !== undefined) q = q.where('ri.track', '=', track);
  return (await q.execute()).map((r) => ({ ...r, riskIndex: Number(r.riskIndex) }));
}

export interface EpisodeRow {
  id: number;
  exposureId: number;
  repositoryId: number;
  severity: string;
  openedAt: number;
  resolvedAt: number | null;
  regression: number;
}

/** Episodes of these repositories opened before `to` (the only ones that can matter for a window ending there). */
export async function episodesOf(
  db: Kysely<Database>,
  repositoryIds: readonly number[],
  to: number,
): Promise<EpisodeRow[]> {
  if (repositoryIds.length === 0) return [];
  return db
    .selectFrom('exposure_episodes as e')
    .innerJoin('exposures as x', 'x.id', 'e.exposure_id')
    .select([
      'e.id',
      'e.exposure_id as exposureId',
      'x.repository_id as repositoryId',
      'e.severity',
      'e.opened_at as openedAt',
      'e.resolved_at as resolvedAt',
      'e.regression',
    ])
    .where('x.repository_id', 'in', [...repositoryIds])
    .where('e.opened_at', '<', to)
    .orderBy('e.id')
    .execute();
}

function stats(values: readonly number[]): MttrStats {
  if (values.length === 0) return { n: 0, meanDays: null, medianDays: null, p90Days: null };
  let sum = 0;
  for (const v of values) sum += v;
  return {
    n: values.length,
    meanDays: round2(sum / values.length),
    medianDays: quantile(values, 0.5),
    p90Days: quantile(values, 0.9),
  };
}

/**
 * The metrics of a set of repositories over the window [from, to):
 * - mttrDays: per severity (the episode's severity at close), mean/median/p90 of resolved_at − opened_at over
 *   episodes resolved in the window (median and p90 by linear interpolation, R's type 7, two decimals);
 * - openAgesDays: episodes open at `to` (opened before it, unresolved or resolved after it), their age at `to`;
 * - sla: targets, open and open-breaching counts at `to`, resolved-late and in-time counts in the window;
 * - density: open findings of the current images (suppressed excluded) per image and per 100 packages;
 * - riskIndex: the summary formula over the current images' totals, the mean and max of the per-image index;
 * - exposures: open at `to`; episodes opened, resolved, and reopened (regressions opened) in the window.
 */
export async function computeMetrics(
  db: Kysely<Database>,
  repositoryIds: readonly number[],
  window: { from: number; to: number },
): Promise<FleetMetrics> {
  const { from, to } = window;
  const [images, episodes, targets] = await Promise.all([
    currentImages(db, repositoryIds),
    episodesOf(db, repositoryIds, to),
    slaTargets(db),
  ]);
  const resolved = new Map<SeverityKey, number[]>(SEVERITY_NAMES.map((s) => [s, []]));
  const open = new Map<SeverityKey, number[]>(SEVERITY_NAMES.map((s) => [s, []]));
  let opened = 0;
  let reopened = 0;
  for (const e of episodes) {
    const severity = severityKey(e.severity);
    if (e.openedAt >= from) {
      opened += 1;
      if (e.regression) reopened += 1;
    }
    if (e.resolvedAt !== null && e.resolvedAt >= from && e.resolvedAt < to) {
      resolved.get(severity)?.push(days(e.resolvedAt - e.openedAt));
    }
    if (e.resolvedAt === null || e.resolvedAt >= to) open.get(severity)?.push(days(to - e.openedAt));
  }
  const mttrDays = Object.fromEntries(SEVERITY_NAMES.map((s) => [s, stats(resolved.get(s) ?? [])])) as Record<
    SeverityKey,
    MttrStats
  >;
  const openAgesDays = Object.fromEntries(
    SEVERITY_NAMES.map((s) => {
      const ages = open.get(s) ?? [];
      return [
        s,
        { n: ages.length, medianDays: quantile(ages, 0.5), maxDays: ages.length ? round2(maxOf(ages)) : null },
      ];
    }),
  ) as Record<SeverityKey, OpenAges>;
  const sla = Object.fromEntries(
    SLA_SEVERITIES.map((s) => {
      const target = targets[s];
      const ages = open.get(s) ?? [];
      const fixed = resolved.get(s) ?? [];
      const late = fixed.filter((d) => d > target).length;
      return [
        s,
        {
          targetDays: target,
          open: ages.length,
          openBreaches: ages.filter((d) => d > target).length,
          resolvedLate: late,
          resolvedInTime: fixed.length - late,
        },
      ];
    }),
  ) as FleetMetrics['sla'];

  const totals = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  let packages = 0;
  let riskSum = 0;
  let riskMax: number | null = null;
  for (const image of images) {
    for (const s of SEVERITY_NAMES) totals[s] += image[s];
    packages += image.packages;
    riskSum += image.riskIndex;
    riskMax = riskMax === null ? image.riskIndex : Math.max(riskMax, image.riskIndex);
  }
  const openFindings = totals.critical + totals.high + totals.medium + totals.low + totals.unknown;
  return {
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    repositories: repositoryIds.length,
    images: images.length,
    mttrDays,
    openAgesDays,
    sla,
    density: {
      openFindings,
      packages,
      perImage: images.length ? round2(openFindings / images.length) : null,
      per100Packages: packages ? round2((openFindings / packages) * 100) : null,
    },
    riskIndex: {
      summary: riskIndex(totals),
      meanPerImage: images.length ? round2(riskSum / images.length) : null,
      max: riskMax,
    },
    exposures: {
      open: [...open.values()].reduce((n, a) => n + a.length, 0),
      opened,
      resolved: [...resolved.values()].reduce((n, a) => n + a.length, 0),
      reopened,
    },
  };
}

/** The largest value, without spreading an unbounded array into Math.max. */
function maxOf(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  return max;
}
