// Formatting shared by every page: pure functions (unit-tested with node:test, no browser needed).

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Counts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

/** `sha256:0123456789ab…` → `0123456789ab` (12 hex digits, as registries show digests). */
export function shortDigest(digest: string): string {
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : digest;
  return hex.slice(0, 12);
}

/** An ISO time as `2026-11-23 06:00 UTC` (the server's times are UTC; so is the display, for one truth). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Age of an ISO time relative to `now`, in the largest whole unit (`3 d`, `5 h`, `12 min`, `just now`). */
export function formatAge(iso: string, now: number): string {
  const ms = now - new Date(iso).getTime();
  if (!Number.isFinite(ms)) return '—';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** "2 critical, 5 high" — severity in words, so colour is never the only carrier. */
export function countsText(counts: Counts): string {
  const parts = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'no open findings';
}

/** The worst severity with a non-zero count, or undefined. */
export function worstSeverity(counts: Counts): Severity | undefined {
  return SEVERITIES.find((s) => counts[s] > 0);
}

/** Threshold colouring of a card: `bad` when over the fail threshold, `warn` over the warn one, else `ok`. */
export function thresholdState(value: number, thresholds: { warn: number; fail: number }): 'ok' | 'warn' | 'bad' {
  if (value >= thresholds.fail) return 'bad';
  if (value >= thresholds.warn) return 'warn';
  return 'ok';
}

/** Sorts rows by one key, stable, nulls last; `direction` is the `aria-sort` word. */
export function sortRows<T>(
  rows: readonly T[],
  key: (row: T) => string | number | null,
  direction: 'ascending' | 'descending',
): T[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, value: key(row) }))
    .sort((a, b) => {
      if (a.value === null && b.value === null) return a.index - b.index;
      if (a.value === null) return 1;
      if (b.value === null) return -1;
      const cmp =
        typeof a.value === 'number' && typeof b.value === 'number'
          ? a.value - b.value
          : String(a.value).localeCompare(String(b.value));
      return cmp === 0 ? a.index - b.index : cmp * sign;
    })
    .map((x) => x.row);
}

/** A list typed into a form (one per line or comma-separated) as its trimmed, non-empty, distinct entries. */
export function listOf(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\n,]/)) {
    const entry = part.trim();
    if (entry) seen.add(entry);
  }
  return [...seen];
}

/** A notification rule's filter in words ("high or worse, KEV only, repositories a, b"; "everything" when empty). */
export function filterText(filter: {
  eventTypes?: string[];
  minSeverity?: string;
  kevOnly?: boolean;
  repositories?: string[];
  teams?: string[];
}): string {
  const parts: string[] = [];
  if (filter.eventTypes?.length) parts.push(`events ${filter.eventTypes.join(', ')}`);
  if (filter.minSeverity) parts.push(`${filter.minSeverity} or worse`);
  if (filter.kevOnly) parts.push('KEV only');
  if (filter.repositories?.length) parts.push(`repositories ${filter.repositories.join(', ')}`);
  if (filter.teams?.length) parts.push(`teams ${filter.teams.join(', ')}`);
  return parts.length ? parts.join('; ') : 'everything';
}

/** A date input's value (`YYYY-MM-DD`) as the start of that day in UTC (how every expiry form sends it), or undefined. */
export function dateToUtc(date: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
