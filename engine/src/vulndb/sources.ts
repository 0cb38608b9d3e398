/** Where `db update` downloads from: a mirror when one is given, else the public hosts. */
export const DEFAULT_OSV_BASE = 'https://osv-vulnerabilities.storage.googleapis.com';
export const DEFAULT_KEV_URL = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';
export const DEFAULT_EPSS_URL = 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz';

export interface SourceUrls {
  osvBase: string;
  kev: string;
  epss: string;
}

/**
 * A mirror serves everything under one base: `<base>/<Ecosystem>/all.zip`, `<base>/known_exploited_vulnerabilities.json`,
 * `<base>/epss_scores-current.csv.gz`. `feeds` overrides the two feeds alone (the CLI's `LADING_KEV_URL` and
 * `LADING_EPSS_URL`).
 */
export function resolveSources(
  mirrorBase?: string,
  feeds: { kev?: string | undefined; epss?: string | undefined } = {},
): SourceUrls {
  const mirror = (mirrorBase ?? '').replace(/\/+$/, '');
  return {
    osvBase: mirror || DEFAULT_OSV_BASE,
    kev: feeds.kev || (mirror ? `${mirror}/known_exploited_vulnerabilities.json` : DEFAULT_KEV_URL),
    epss: feeds.epss || (mirror ? `${mirror}/epss_scores-current.csv.gz` : DEFAULT_EPSS_URL),
  };
}
