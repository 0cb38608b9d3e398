import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreConnection } from './store.js';

/**
 * Which ecosystems scans needed, so a bare `lading db update` fetches them: a small JSON file beside the database
 * (`{"Debian": "<ISO time last needed>"}`), written by the CLI after it built an inventory. Not in the database:
 * a scan must never open the database for writing (a library user's scan has no business writing at all).
 */
export const NEEDED_FILE = 'needed-ecosystems.json';

/** The ecosystems scans needed, with when they last did; empty when the file is missing or unreadable. */
export function readNeededEcosystems(dir: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, NEEDED_FILE), 'utf8'));
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return out;
  for (const [name, when] of Object.entries(parsed)) {
    if (typeof when === 'string' && name !== '' && name !== '[EMPTY]') out[name] = when;
  }
  return out;
}

/**
 * Notes that a scan needed these ecosystems (the CLI's bookkeeping, at its edge). Best effort: a read-only
 * database folder must not stop a scan, so every failure is swallowed. Written beside and renamed over, so a
 * concurrent reader sees the old file or the new one.
 */
export function recordNeededEcosystems(dir: string, names: Iterable<string>, now: Date): void {
  const known = readNeededEcosystems(dir);
  const merged = { ...known };
  for (const name of names) merged[name] = now.toISOString();
  const tmp = join(dir, `.${NEEDED_FILE}.${process.pid}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    writeFileSync(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
    renameSync(tmp, join(dir, NEEDED_FILE));
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing more to do: the bookkeeping is best effort
    }
  }
}

/**
 * Needed ecosystems as a store knows them: the file beside it, plus the `needed_at` column databases written by
 * earlier Lading versions carry. Name → when last needed.
 */
export function neededByScans(store: StoreConnection): Record<string, string> {
  const needed: Record<string, string> = {};
  for (const state of store.ecosystems()) if (state.neededAt) needed[state.name] = state.neededAt;
  for (const [name, when] of Object.entries(readNeededEcosystems(store.dir))) {
    const known = needed[name];
    if (!known || known < when) needed[name] = when;
  }
  return needed;
}
