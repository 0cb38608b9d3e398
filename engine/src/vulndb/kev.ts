import { LadingError } from '../errors/lading-error.js';
import type { KevEntry } from './store.js';

export interface KevCatalog {
  catalogVersion?: string;
  dateReleased?: string;
  entries: KevEntry[];
  /** Entries without a usable `cveID`. */
  skipped: number;
}

const CVE = /^CVE-\d{4}-\d{4,}$/;

/** Is this parsed JSON CISA's known_exploited_vulnerabilities.json rather than an OSV record? */
export function looksLikeKev(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as Record<string, unknown>)['vulnerabilities'])
  );
}

/** CISA KEV catalog (`known_exploited_vulnerabilities.json`): only the facts a finding shows are kept. */
export function parseKev(value: unknown, label: string): KevCatalog {
  if (!looksLikeKev(value))
    throw new LadingError('BAD_INPUT', `${label}: not a CISA KEV catalog (no "vulnerabilities" list)`);
  const doc = value as Record<string, unknown>;
  const catalog: KevCatalog = { entries: [], skipped: 0 };
  if (typeof doc['catalogVersion'] === 'string') catalog.catalogVersion = doc['catalogVersion'];
  if (typeof doc['dateReleased'] === 'string') catalog.dateReleased = doc['dateReleased'];
  for (const item of doc['vulnerabilities'] as unknown[]) {
    const entry = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
    const cve = typeof entry['cveID'] === 'string' ? entry['cveID'].trim() : '';
    if (!CVE.test(cve)) {
      catalog.skipped++;
      continue;
    }
    const kev: KevEntry = { cve };
    if (typeof entry['dateAdded'] === 'string') kev.dateAdded = entry['dateAdded'];
    if (typeof entry['knownRansomwareCampaignUse'] === 'string') kev.ransomware = entry['knownRansomwareCampaignUse'];
    catalog.entries.push(kev);
  }
  return catalog;
}
