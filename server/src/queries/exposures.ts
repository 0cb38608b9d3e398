// A repository's exposures for the dashboard's repository page: each open → resolved episode (migration 0003) of each
// vulnerable package on each of its tracks, newest opening first, with the images that opened and resolved it.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { isoTime } from './text.js';

export interface ExposureEpisodeView {
  vulnerability: string;
  severity: string;
  package: string;
  track: string;
  state: 'open' | 'resolved';
  openedAt: string;
  openedIn: string;
  resolvedAt: string | null;
  resolvedIn: string | null;
  packageFrom: string;
  packageTo: string | null;
  regression: boolean;
}

/** At most `limit` episodes of one repository (already known to be in the caller's scope), optionally by state. */
export async function repositoryExposures(
  db: Kysely<Database>,
  repositoryId: number,
  options: { state?: 'open' | 'resolved'; limit: number },
): Promise<ExposureEpisodeView[]> {
  let q = db
    .selectFrom('exposure_episodes as ep')
    .innerJoin('exposures as x', 'x.id', 'ep.exposure_id')
    .innerJoin('vulnerabilities as v', 'v.id', 'x.vulnerability_id')
    .innerJoin('images as oi', 'oi.id', 'ep.opened_image_id')
    .leftJoin('images as ri', 'ri.id', 'ep.resolved_image_id')
    .where('x.repository_id', '=', repositoryId);
  if (options.state === 'open') q = q.where('ep.resolved_at', 'is', null);
  if (options.state === 'resolved') q = q.where('ep.resolved_at', 'is not', null);
  const rows = await q
    .select([
      'v.vuln_id as vulnerability',
      'ep.severity',
      'x.package_name',
      'x.track',
      'ep.opened_at',
      'oi.digest as opened_in',
      'ep.resolved_at',
      'ri.digest as resolved_in',
      'ep.package_from',
      'ep.package_to',
      'ep.regression',
    ])
    .orderBy('ep.opened_at', 'desc')
    .orderBy('ep.id', 'desc')
    .limit(options.limit)
    .execute();
  return rows.map((r) => ({
    vulnerability: r.vulnerability,
    severity: r.severity,
    package: r.package_name,
    track: r.track,
    state: r.resolved_at === null ? 'open' : 'resolved',
    openedAt: isoTime(Number(r.opened_at)),
    openedIn: r.opened_in,
    resolvedAt: r.resolved_at === null ? null : isoTime(Number(r.resolved_at)),
    resolvedIn: r.resolved_in ?? null,
    packageFrom: r.package_from,
    packageTo: r.package_to,
    regression: Number(r.regression) === 1,
  }));
}
