import { plural } from '../report/words.js';
import { neededByScans } from './needed.js';
import type { StoreConnection } from './store.js';

/** One release (`Debian:12`) of an ecosystem, as the ecosystem's own data files records under it. */
export interface ReleaseStatus {
  release: string;
  records: number;
  /** Newest `modified` among its records: how current the data for that release is. */
  newestRecord?: string;
  /** Whole days from the newest record to now. */
  dataAgeDays?: number;
}

export interface EcosystemStatus {
  ecosystem: string;
  records: number;
  /** When the data was last updated or imported (not how old the data is: see newestRecord). */
  updatedAt?: string;
  /** Whole days since the last update or import. */
  ageDays?: number;
  /** Newest `modified` time in the data. */
  newestRecord?: string;
  /** Whole days from the newest record to now: the data's own age, whenever it was imported. */
  dataAgeDays?: number;
  source?: string;
  /** The whole dump is loaded: every release is covered, including those with no record (coverage.ts). */
  wholeDump: boolean;
  /** Releases the data holds records for (`Debian:9`, `Debian:12`); absent for ecosystems without releases. */
  releases?: ReleaseStatus[];
  neededByScans: boolean;
}

export interface DbStatus {
  path: string;
  ecosystems: EcosystemStatus[];
  kev: { entries: number; catalogVersion?: string; updatedAt?: string };
  epss: { scores: number; modelVersion?: string; scoreDate?: string; updatedAt?: string };
}

/** Works on a VulnStoreReader (`db status`) or a VulnStoreWriter. */
export function dbStatus(store: StoreConnection, now: Date): DbStatus {
  const needed = neededByScans(store);
  const states = store.ecosystems();
  // an ecosystem a scan needed but no update fetched yet is listed too, as "never" updated
  for (const name of Object.keys(needed)) if (!states.some((s) => s.name === name)) states.push({ name, records: 0 });
  states.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const releases = new Map<string, ReleaseStatus[]>();
  for (const row of store.releases()) {
    // a language ecosystem has one "release", itself: nothing to list
    if (row.release === row.ecosystem) continue;
    const release: ReleaseStatus = { release: row.release, records: row.records };
    if (row.newestRecord) {
      release.newestRecord = row.newestRecord;
      release.dataAgeDays = daysBetween(row.newestRecord, now);
    }
    const list = releases.get(row.ecosystem) ?? [];
    list.push(release);
    releases.set(row.ecosystem, list);
  }
  const ecosystems = states.map((state) => {
    const status: EcosystemStatus = {
      ecosystem: state.name,
      records: state.records,
      wholeDump: state.fullAt !== undefined,
      neededByScans: needed[state.name] !== undefined,
    };
    if (state.updatedAt) {
      status.updatedAt = state.updatedAt;
      status.ageDays = daysBetween(state.updatedAt, now);
    }
    if (state.highWater) {
      status.newestRecord = state.highWater;
      status.dataAgeDays = daysBetween(state.highWater, now);
    }
    if (state.origin) status.source = state.origin;
    const held = releases.get(state.name);
    if (held) status.releases = held.sort((a, b) => compareReleases(a.release, b.release));
    return status;
  });
  return {
    path: store.path,
    ecosystems,
    kev: withOptional(
      { entries: store.count('kev') },
      {
        catalogVersion: store.meta('kev.catalogVersion'),
        updatedAt: store.meta('kev.updatedAt'),
      },
    ),
    epss: withOptional(
      { scores: store.count('epss') },
      {
        modelVersion: store.meta('epss.modelVersion'),
        scoreDate: store.meta('epss.scoreDate'),
        updatedAt: store.meta('epss.updatedAt'),
      },
    ),
  };
}

/**
 * One row per ecosystem, then one per release it holds records for (indented). NEWEST RECORD and DATA AGE say how
 * current the data is (its newest `modified`); UPDATED and its AGE say when it was last updated or imported: an
 * import today of year-old records is year-old data.
 */
export function renderStatus(status: DbStatus): string {
  const rows = [['ECOSYSTEM', 'RECORDS', 'NEWEST RECORD', 'DATA AGE', 'UPDATED', 'AGE', 'NEEDED']];
  for (const e of status.ecosystems) {
    rows.push([
      e.ecosystem,
      String(e.records),
      e.newestRecord ?? '-',
      e.dataAgeDays === undefined ? '-' : `${e.dataAgeDays}d`,
      e.updatedAt ?? 'never',
      e.ageDays === undefined ? '-' : `${e.ageDays}d`,
      e.neededByScans ? 'yes' : '',
    ]);
    for (const r of e.releases ?? []) {
      rows.push([
        `  ${r.release}`,
        String(r.records),
        r.newestRecord ?? '-',
        r.dataAgeDays === undefined ? '-' : `${r.dataAgeDays}d`,
        '',
        '',
        '',
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => rows.reduce((widest, r) => Math.max(widest, (r[i] ?? '').length), 0));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  lines.unshift(`database: ${status.path}`);
  lines.push(
    `KEV: ${plural(status.kev.entries, 'entry', 'entries')}${status.kev.catalogVersion ? ` (catalog ${status.kev.catalogVersion})` : ''}`,
  );
  lines.push(
    `EPSS: ${plural(status.epss.scores, 'score')}${status.epss.modelVersion ? ` (model ${status.epss.modelVersion}, ${status.epss.scoreDate ?? 'undated'})` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

function daysBetween(when: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(when)) / 86_400_000));
}

/** `Debian:9` before `Debian:10`: numbers in release names compare as numbers. */
function compareReleases(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function withOptional<T extends object>(base: T, extra: Record<string, string | undefined>): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(extra)) if (value) out[key] = value;
  return out as T;
}
