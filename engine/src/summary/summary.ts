import { severityDirection } from '../diff/diff.js';
import type { SeverityCounts } from '../model/report.js';

/** One repository's counts in a summary: unsuppressed findings of its newest report, per severity. */
export interface SummaryImage extends SeverityCounts {
  name: string;
}

export interface TrendPoint {
  /** `YYYY-MM-DD`: the day the point stands for (its summary period's end). */
  date: string;
  critical: number;
  high: number;
  medium: number;
}

/** The weekly security summary, version 3 (docs/cli.md, "lading summary"): this exact shape, no other fields. */
export interface WeeklySummary {
  generatedAt: string;
  period: { start: string; end: string };
  images: SummaryImage[];
  totals: SeverityCounts;
  delta: SeverityCounts;
  direction: 'better' | 'worse' | 'stable';
  trend: TrendPoint[];
  riskIndex: number;
  riskIndexMethod: string;
  version: 3;
  sources: string[];
}

/**
 * One input of a summary, already read: a report's repository and counts, or a report that could not be read (a
 * placeholder). Made by `readSummaryInput` (inputs.ts) or by a caller that holds reports itself.
 */
export type SummaryInput =
  | {
      kind: 'read';
      /** The file's name as the user gave it (for `sources`). */
      file: string;
      /** The repository: the image name without tag or digest. */
      name: string;
      /** The image's digest when the report names one. */
      digest?: string;
      /** When the report was made (ISO 8601); the newest report of a repository is its current state. */
      createdAt: string;
      /** When the vulnerability data the report was matched against was last updated (Lading reports only). */
      dataUpdatedAt?: string;
      counts: SeverityCounts;
    }
  | {
      kind: 'unread';
      file: string;
      /** The repository when the unreadable document still told it; else the file's base name stands in. */
      name: string;
      /** Why it was not read, one line. */
      reason: string;
    };

export interface WeeklySummaryOptions {
  /** The summary this one follows: its totals give `delta`, its trend is continued, its images fill placeholders. */
  previous?: WeeklySummary;
  /** The clock reading for `generatedAt` and the default period. */
  now: Date;
  /** Default: the 7 days ending at the UTC midnight that starts `now`'s day. */
  period?: { start: Date; end: Date };
  /** How many trend points are kept, the newest ones. Default 26 (half a year of weeks). */
  trendKeep?: number;
}

export const RISK_INDEX_METHOD = '(critical*10 + high*5 + medium*2) / 300 * 100; capped at 100';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The weekly summary v3 of a set of reports. Pure: the clock and the previous summary are arguments.
 * - `images`: one per repository, from its newest readable report (by `createdAt`, then file name); a repository
 *   with no readable report is a placeholder carrying its counts from `previous` (zeros when it has none there),
 *   and `sources` says `not read: …` for it. Sorted by name.
 * - `delta`: `totals` minus `previous.totals`; all zeros without a previous summary (nothing to compare with is no
 *   change), so `direction` is then `stable`.
 * - `direction`: the `lading diff` rule (`severityDirection`) applied to `delta`.
 * - `trend`: the previous trend plus this period's point (dated by the period's end; a point of the same date is
 *   replaced, so re-running a week does not add a second one), the newest `trendKeep` kept.
 * - `riskIndex`: (10c + 5h + 2m) / 300 × 100 over `totals`, rounded half up to one decimal, capped at 100.
 */
export function weeklySummary(inputs: readonly SummaryInput[], options: WeeklySummaryOptions): WeeklySummary {
  const { previous, now } = options;
  const trendKeep = options.trendKeep ?? 26;
  const period = options.period ?? defaultPeriod(now);

  const current = new Map<string, Extract<SummaryInput, { kind: 'read' }>>();
  for (const input of inputs) {
    if (input.kind !== 'read') continue;
    const seen = current.get(input.name);
    if (!seen || newer(input, seen)) current.set(input.name, input);
  }
  const placeholders = new Map<string, Extract<SummaryInput, { kind: 'unread' }>>();
  for (const input of inputs) {
    if (input.kind === 'unread' && !current.has(input.name) && !placeholders.has(input.name)) {
      placeholders.set(input.name, input);
    }
  }

  const images: SummaryImage[] = [];
  for (const [name, input] of current) images.push({ name, ...severityFields(input.counts) });
  for (const name of placeholders.keys()) {
    const last = previous?.images.find((image) => image.name === name);
    images.push({ name, ...severityFields(last ?? zeros()) });
  }
  images.sort((a, b) => compareText(a.name, b.name));

  const totals = zeros();
  for (const image of images) {
    for (const key of SEVERITY_KEYS) totals[key] += image[key];
  }
  const delta = zeros();
  if (previous) for (const key of SEVERITY_KEYS) delta[key] = totals[key] - previous.totals[key];

  const point: TrendPoint = {
    date: period.end.toISOString().slice(0, 10),
    critical: totals.critical,
    high: totals.high,
    medium: totals.medium,
  };
  const trend = [...(previous?.trend ?? []).filter((p) => p.date !== point.date), point]
    .sort((a, b) => compareText(a.date, b.date))
    .slice(-Math.max(1, trendKeep));

  // Sources follow the images' order; the placeholders' notes name every unreadable file, also those of a
  // repository that another report did count.
  const sources = [
    ...images.flatMap((image) => {
      const input = current.get(image.name);
      if (!input) return [];
      const data = input.dataUpdatedAt ? `, data ${input.dataUpdatedAt}` : '';
      return [`${input.name}${input.digest ? `@${input.digest}` : ''} (${input.file}, ${input.createdAt}${data})`];
    }),
    ...inputs
      .filter((input): input is Extract<SummaryInput, { kind: 'unread' }> => input.kind === 'unread')
      .map((input) => `not read: ${input.file} (${input.name}): ${input.reason}`)
      .sort(compareText),
  ];

  return {
    generatedAt: isoSeconds(now),
    period: { start: isoSeconds(period.start), end: isoSeconds(period.end) },
    images,
    totals,
    delta,
    direction: severityDirection(delta),
    trend,
    riskIndex: riskIndex(totals),
    riskIndexMethod: RISK_INDEX_METHOD,
    version: 3,
    sources,
  };
}

/** (10c + 5h + 2m) / 300 × 100, rounded half up to one decimal, at most 100. Integer arithmetic until the end. */
export function riskIndex(counts: Pick<SeverityCounts, 'critical' | 'high' | 'medium'>): number {
  const weighted = counts.critical * 10 + counts.high * 5 + counts.medium * 2;
  // weighted / 300 * 100 * 10 = weighted * 10 / 3 tenths.
  return Math.min(100, Math.round((weighted * 10) / 3) / 10);
}

/** The stable text of a summary: fixed key order (the object's), 2-space JSON, one trailing newline. */
export function renderWeeklySummary(summary: WeeklySummary): string {
  return `${JSON.stringify(summary, null, 2)}\n`;
}

const SEVERITY_KEYS = ['critical', 'high', 'medium', 'low', 'unknown'] as const;

function zeros(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
}

/** The counts in the summary's key order, whatever object they came from. */
function severityFields(counts: SeverityCounts): SeverityCounts {
  return {
    critical: counts.critical,
    high: counts.high,
    medium: counts.medium,
    low: counts.low,
    unknown: counts.unknown,
  };
}

function newer(a: { createdAt: string; file: string }, b: { createdAt: string; file: string }): boolean {
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  const va = Number.isNaN(ta) ? -Infinity : ta;
  const vb = Number.isNaN(tb) ? -Infinity : tb;
  return va !== vb ? va > vb : compareText(a.file, b.file) > 0;
}

function defaultPeriod(now: Date): { start: Date; end: Date } {
  const end = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  return { start: new Date(end.getTime() - 7 * DAY_MS), end };
}

/** ISO 8601 in UTC without milliseconds, as the v3 example writes it. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Code-point order: the same bytes on every machine and locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
