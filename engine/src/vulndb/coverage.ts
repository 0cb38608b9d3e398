import { baseEcosystem } from './names.js';
import type { StoreConnection } from './store.js';

/**
 * Whether the store can answer for one OS release or language ecosystem, as scans name it (`Debian:12`,
 * `Alpine:v3.19`, `Ubuntu:22.04:LTS`, `npm`).
 *
 * The rule: a release is covered when
 * - its ecosystem's whole dump is loaded (`db update` downloaded `<Ecosystem>/all.zip`, or `db import` read a zip
 *   named `all.zip`, `<anything>-all.zip` or `_all.zip`, or a `db export` copy of such a store): a dump carries
 *   every release the ecosystem publishes, so a release it holds no record for has no known vulnerability; or
 * - records filed under the release itself were imported (`db import` of single records or folders): records for
 *   `Debian:9` cover Debian 9 only, never Debian 12.
 * Records count only under their own ecosystem's dump: a GHSA that the npm dump carries and that also names a
 * PyPI package does not make PyPI covered.
 */
export interface ReleaseCoverage {
  /** The release as asked (`Debian:12`). */
  ecosystem: string;
  covered: boolean;
  /** Why it is covered: the whole dump, or records of that release. */
  basis?: 'dump' | 'records';
  /** Records filed under that release (counted when the dump is not whole; 0 when not counted or none). */
  records: number;
  /** Newest `modified` among them, or the dump's newest record. */
  newestRecord?: string;
  /** When the ecosystem's data was last updated or imported. */
  updatedAt?: string;
}

export function releaseCoverage(store: StoreConnection, ecosystem: string): ReleaseCoverage {
  const state = store.ecosystem(baseEcosystem(ecosystem));
  const updated = state?.updatedAt ? { updatedAt: state.updatedAt } : {};
  if (state?.fullAt && state.updatedAt) {
    return {
      ecosystem,
      covered: true,
      basis: 'dump',
      records: 0,
      ...(state.highWater ? { newestRecord: state.highWater } : {}),
      ...updated,
    };
  }
  const { records, newestRecord } = store.releaseRecords(ecosystem);
  const covered = records > 0 && state?.updatedAt !== undefined;
  return {
    ecosystem,
    covered,
    ...(covered ? { basis: 'records' as const } : {}),
    records,
    ...(newestRecord ? { newestRecord } : {}),
    ...updated,
  };
}

/** A zip that `db import` takes for a whole dump: OSV publishes them as `<Ecosystem>/all.zip` (and `all.zip`). */
export function isDumpFileName(path: string): boolean {
  return /(?:^|[/\\_.-])all\.zip$/i.test(path);
}
