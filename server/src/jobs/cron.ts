// Five-field cron expressions (minute hour day-of-month month day-of-week, always UTC) for the scheduled jobs
// (SERVER.md section 3: vulndb.update at 03:00, exceptions.expire hourly, …). Only what a schedule list needs:
// `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, and lists `a,b`. No names, no `L`/`W`/`#`, no seconds: a
// schedule we write ourselves never needs them, and refusing them keeps the matcher small enough to trust.

export interface CronExpression {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday … 6 = Saturday (7 is read as Sunday too). */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Standard cron: when both day fields are restricted, a day matches if EITHER matches. */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

function parseField(text: string, field: (typeof FIELDS)[number], source: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/.exec(part);
    if (!match) throw new Error(`cron "${source}": the ${field.name} field "${text}" is not understood`);
    const step = match[4] === undefined ? 1 : Number(match[4]);
    let from: number = field.min;
    let to: number = field.max;
    if (match[1] !== '*') {
      from = Number(match[2]);
      // `5/15` means from 5 to the end in steps of 15, as in Vixie cron
      to = match[3] === undefined ? (match[4] === undefined ? from : field.max) : Number(match[3]);
    }
    if (step < 1 || from < field.min || to > field.max || from > to) {
      throw new Error(`cron "${source}": the ${field.name} field "${text}" is out of range`);
    }
    for (let v = from; v <= to; v += step) out.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

export function parseCron(source: string): CronExpression {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${source}" needs five fields (minute hour day month weekday)`);
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((p, i) => parseField(p, FIELDS[i]!, source));
  return {
    source,
    minutes: minutes!,
    hours: hours!,
    daysOfMonth: daysOfMonth!,
    months: months!,
    daysOfWeek: daysOfWeek!,
    dayOfMonthRestricted: parts[2] !== '*',
    dayOfWeekRestricted: parts[4] !== '*',
  };
}

function dayMatches(cron: CronExpression, date: Date): boolean {
  if (!cron.months.has(date.getUTCMonth() + 1)) return false;
  const dom = cron.daysOfMonth.has(date.getUTCDate());
  const dow = cron.daysOfWeek.has(date.getUTCDay());
  if (cron.dayOfMonthRestricted && cron.dayOfWeekRestricted) return dom || dow;
  return dom && dow;
}

const MINUTE = 60_000;
/** Far enough back for any expression that can match at all (29 February recurs within 8 years). */
const SEARCH_LIMIT_MS = 8 * 366 * 86_400_000;

/**
 * The latest tick at or before `now` (epoch ms, on a whole minute), or undefined when the expression matched
 * nothing in the last eight years (`0 0 31 2 *`). Walks backwards skipping whole days and hours that cannot match,
 * so even a yearly schedule takes a few hundred steps.
 */
export function previousTick(cron: CronExpression, now: number): number | undefined {
  let t = Math.floor(now / MINUTE) * MINUTE;
  const limit = t - SEARCH_LIMIT_MS;
  while (t >= limit) {
    const date = new Date(t);
    if (!dayMatches(cron, date)) {
      // to 23:59 of the previous day
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) - MINUTE;
      continue;
    }
    if (!cron.hours.has(date.getUTCHours())) {
      // to :59 of the previous hour
      t = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours()) - MINUTE;
      continue;
    }
    if (cron.minutes.has(date.getUTCMinutes())) return t;
    t -= MINUTE;
  }
  return undefined;
}
