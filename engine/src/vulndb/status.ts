import { neededByScans } from './needed.js';
import type { StoreConnection } from './store.js';

export interface EcosystemStatus {
  ecosystem: string;
  records: number;
  updatedAt?: string;
  /** Whole days since the last update (`db status` prints it as the data age). */
  ageDays?: number;
  /** Newest `modified` time in the data. */
  newestRecord?: string;
  source?: string;
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
  const ecosystems = states.map((state) => {
    const status: EcosystemStatus = {
      ecosystem: state.name,
      records: state.records,
      neededByScans: needed[state.name] !== undefined,
    };
    if (state.updatedAt) {
      status.updatedAt = state.updatedAt;
      status.ageDays = Math.max(0, Math.floor((now.getTime() - Date.parse(state.updatedAt)) / 86_400_000));
    }
    if (state.highWater) status.newestRecord = state.highWater;
    if (state.origin) status.source = state.origin;
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

export function renderStatus(status: DbStatus): string {
  const rows = [['ECOSYSTEM', 'RECORDS', 'UPDATED', 'AGE', 'NEEDED']];
  for (const e of status.ecosystems) {
    rows.push([
      e.ecosystem,
      String(e.records),
      e.updatedAt ?? 'never',
      e.ageDays === undefined ? '-' : `${e.ageDays}d`,
      e.neededByScans ? 'yes' : '',
    ]);
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
    `KEV: ${status.kev.entries} entries${status.kev.catalogVersion ? ` (catalog ${status.kev.catalogVersion})` : ''}`,
  );
  lines.push(
    `EPSS: ${status.epss.scores} scores${status.epss.modelVersion ? ` (model ${status.epss.modelVersion}, ${status.epss.scoreDate ?? 'undated'})` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

function withOptional<T extends object>(base: T, extra: Record<string, string | undefined>): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(extra)) if (value) out[key] = value;
  return out as T;
}
