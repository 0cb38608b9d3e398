/** Where `db update` downloads from. One rule: `--source`, else `LADING_DB_SOURCE`, else the public hosts. */
export const DEFAULT_OSV_BASE = 'https://osv-vulnerabilities.storage.googleapis.com';
export const DEFAULT_KEV_URL = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';
export const DEFAULT_EPSS_URL = 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz';

export interface SourceUrls {
  osvBase: string;
  kev: string;
  epss: string;
}

/**
 * A mirror given by `--source`/`LADING_DB_SOURCE` serves everything under one base: `<base>/<Ecosystem>/all.zip`,
 * `<base>/known_exploited_vulnerabilities.json`, `<base>/epss_scores-current.csv.gz`. `LADING_KEV_URL` and
 * `LADING_EPSS_URL` override the two feeds alone.
 */
export function resolveSources(flag?: string, env: NodeJS.ProcessEnv = process.env): SourceUrls {
  const mirror = (flag || env['LADING_DB_SOURCE'] || '').replace(/\/+$/, '');
  return {
    osvBase: mirror || DEFAULT_OSV_BASE,
    kev: env['LADING_KEV_URL'] || (mirror ? `${mirror}/known_exploited_vulnerabilities.json` : DEFAULT_KEV_URL),
    epss: env['LADING_EPSS_URL'] || (mirror ? `${mirror}/epss_scores-current.csv.gz` : DEFAULT_EPSS_URL),
  };
}
