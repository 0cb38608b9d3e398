import type { WantedFile } from '../../image/file.js';

/**
 * The layer that installed or last changed each package of a package database. `versionsOf` reads one version of
 * the database into key → package version (cheaply: no file lists); keys absent from the current version are ignored.
 * A package is attributed to the oldest layer of the unbroken run of database versions, ending at the current one,
 * that hold it at its current version.
 */
export function attributeLayers(
  file: WantedFile,
  current: ReadonlyMap<string, string>,
  versionsOf: (content: Buffer) => ReadonlyMap<string, string> | undefined,
): Map<string, string | undefined> {
  const result = new Map<string, string | undefined>();
  for (const key of current.keys()) result.set(key, file.layer);
  const history = file.history ?? [];
  if (history.length === 0) return result;
  const open = new Set(current.keys());
  for (let i = history.length - 1; i >= 0 && open.size > 0; i--) {
    const older = history[i];
    if (!older) continue;
    // An unreadable lower version cannot prove an earlier install: keep what the newer layers showed.
    const versions = versionsOf(older.content);
    if (!versions) break;
    for (const key of [...open]) {
      if (versions.get(key) === current.get(key)) result.set(key, older.layer);
      else open.delete(key);
    }
  }
  return result;
}
