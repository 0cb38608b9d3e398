/**
 * The statistics the fix-latency study reports. Latencies are right-censored: a fix that had not shipped when the
 * observation ended is "at least this long", not missing. Dropping those values biases every median low, so medians
 * and 90th percentiles here are read off the Kaplan–Meier survival curve, which uses censored values for as long as
 * they were observed.
 */

/** One latency: `days` until the event, or until observation ended when `censored`. */
export interface Duration {
  days: number;
  censored: boolean;
}

export interface LatencyStats {
  /** Every value, fixed and censored. */
  n: number;
  /** Values whose event was observed. */
  events: number;
  censored: number;
  /** Kaplan–Meier median in days; `null` when fewer than half the values had their event by the longest time seen. */
  medianDays: number | null;
  /** Kaplan–Meier 90th percentile in days; `null` when not reached. */
  p90Days: number | null;
  /** Median of the observed events only (what a study that drops censored values would report), for comparison. */
  eventsOnlyMedianDays: number | null;
}

/** Days between two epoch-millisecond times, to two decimals (latencies keep their sign: embargoed fixes are ≤ 0). */
export function daysBetween(fromMs: number, toMs: number): number {
  return Math.round(((toMs - fromMs) / 86_400_000) * 100) / 100;
}

/**
 * The time at which the Kaplan–Meier survival estimate first falls to `1 - q` or below (q = 0.5 for the median).
 * Ties: events at a time are processed before censorings at the same time (the usual convention).
 */
export function kaplanMeierQuantile(values: readonly Duration[], q: number): number | null {
  const sorted = values.slice().sort((a, b) => a.days - b.days || Number(a.censored) - Number(b.censored));
  let atRisk = sorted.length;
  let survival = 1;
  let i = 0;
  while (i < sorted.length) {
    const time = sorted[i]?.days ?? 0;
    let events = 0;
    let leaving = 0;
    while (i < sorted.length && sorted[i]?.days === time) {
      if (!sorted[i]?.censored) events += 1;
      leaving += 1;
      i += 1;
    }
    if (events > 0) {
      survival *= 1 - events / atRisk;
      // A small tolerance so that exactly half (0.5 after rounding error) counts as reached.
      if (survival <= 1 - q + 1e-12) return time;
    }
    atRisk -= leaving;
  }
  return null;
}

/** The q-quantile of plain numbers by linear interpolation between order statistics (R's type 7). */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] ?? 0;
  const b = sorted[high] ?? 0;
  return round2(a + (b - a) * (position - low));
}

export function latencyStats(values: readonly Duration[]): LatencyStats {
  const events = values.filter((v) => !v.censored);
  return {
    n: values.length,
    events: events.length,
    censored: values.length - events.length,
    medianDays: roundOrNull(kaplanMeierQuantile(values, 0.5)),
    p90Days: roundOrNull(kaplanMeierQuantile(values, 0.9)),
    eventsOnlyMedianDays: quantile(
      events.map((v) => v.days),
      0.5,
    ),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round2(x);
}
