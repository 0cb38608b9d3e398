import { languageTypeOf } from '../model/ecosystems.js';

/**
 * OSV ecosystem strings carry a release after the first `:` (`Debian:12`, `Alpine:v3.19`,
 * `Red Hat:enterprise_linux:9::baseos`); the dumps are published per base name (`Debian/all.zip`).
 */
export function baseEcosystem(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  return colon === -1 ? ecosystem : ecosystem.slice(0, colon);
}

/**
 * The lookup key of a package name in one ecosystem (the table's `nameKey`). Both the store's index and the matcher
 * use it, so `Flask_SQLAlchemy` finds `flask-sqlalchemy` (PEP 503) while case-sensitive ecosystems stay exact.
 */
export function normalizePackageName(ecosystem: string, name: string): string {
  switch (languageTypeOf(baseEcosystem(ecosystem))?.nameKey) {
    case 'pep503':
      return name
        .trim()
        .toLowerCase()
        .replace(/[-_.]+/g, '-');
    case 'cargo':
      // crates.io treats `-` and `_` alike and names case-insensitively.
      return name.trim().toLowerCase().replace(/_/g, '-');
    case 'lower':
      return name.trim().toLowerCase();
    default:
      return name.trim();
  }
}

/** Directory names are used in URLs: `Red Hat` → `Red%20Hat`. */
export function ecosystemPath(base: string): string {
  return encodeURIComponent(base);
}

/**
 * The part of an ecosystem string a package lookup must equal: the whole string (`Debian:12` data says nothing
 * about Debian 11), except Red Hat, which publishes per repository (`…:9::baseos`) while an image only tells
 * product and major version, and SUSE, which files packages per module (see `suseRelease`). The matcher still
 * compares ecosystems itself; this only narrows what is read.
 */
export function releaseKey(ecosystem: string): string {
  const base = baseEcosystem(ecosystem);
  if (base === 'SUSE') {
    const release = suseRelease(ecosystem);
    return release ? `SUSE:${release}` : ecosystem;
  }
  if (base !== 'Red Hat') return ecosystem;
  const [, product, version] = ecosystem.split(':');
  return `Red Hat:${product ?? ''}:${(version ?? '').split('.')[0]}`;
}

/**
 * The SUSE Linux Enterprise release in an ecosystem string: `SUSE:Linux Enterprise Module for Basesystem 15 SP5`
 * and `SUSE:Linux Enterprise Server 15 SP5-LTSS` → `15 SP5`; `…Server 15` → `15`. Other SUSE products (Micro,
 * Manager) are numbered on their own scale, so they keep their product name.
 */
export function suseRelease(ecosystem: string): string | undefined {
  const colon = ecosystem.indexOf(':');
  if (colon === -1 || baseEcosystem(ecosystem) !== 'SUSE') return undefined;
  const product = ecosystem.slice(colon + 1);
  const enterprise =
    /^Linux Enterprise (?:Server|Desktop|Module for [^:]+?|High Performance Computing|Server for SAP Applications|Workstation Extension|Real Time)(?: LTSS)? (\d+)(?: (SP\d+))?(?:-[A-Z-]+)?$/.exec(
      product,
    );
  if (enterprise) return enterprise[2] ? `${enterprise[1]} ${enterprise[2]}` : enterprise[1];
  return product || undefined;
}
