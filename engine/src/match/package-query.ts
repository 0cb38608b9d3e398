import { type LanguagePackageType, packageTypeFacts } from '../model/ecosystems.js';
import type { OsInfo } from '../model/os.js';
import type { Package } from '../model/package.js';
import { parsePurl } from '../model/purl.js';

/** What to look up for one package: the OSV ecosystem, the names advisories may use, the version to compare. */
export interface PackageQuery {
  ecosystem: string;
  names: string[];
  version: string;
}

/**
 * OS packages are matched in the release's ecosystem by the name (and version) the distribution's advisories use
 * (the table's `advisoryName`); language packages in their type's ecosystem. Returns a reason string when the
 * package cannot be matched.
 */
export function queryFor(pkg: Package, os: OsInfo | undefined): PackageQuery | string {
  const facts = packageTypeFacts(pkg.type);
  if (facts.kind === 'language') {
    return { ecosystem: facts.osv, names: [languageName(pkg, facts)], version: languageVersion(pkg, facts) };
  }
  if (!os?.ecosystem) return 'no OSV ecosystem known for the operating system';
  switch (facts.advisoryName) {
    case 'source':
      return {
        ecosystem: os.ecosystem,
        names: [pkg.source?.name || pkg.name],
        version: pkg.source?.version || pkg.version,
      };
    case 'origin':
      return { ecosystem: os.ecosystem, names: [pkg.source?.name || pkg.name], version: pkg.version };
    case 'binary-or-source': {
      const names = [pkg.name];
      if (pkg.source?.name && pkg.source.name !== pkg.name) names.push(pkg.source.name);
      return { ecosystem: os.ecosystem, names, version: pkg.version };
    }
  }
}

/** The advisory name: Maven `group:artifact`, npm `@scope/name`, Go and Packagist full paths (from the purl). */
function languageName(pkg: Package, facts: LanguagePackageType): string {
  const purl = parsePurl(pkg.purl);
  const namespace = purl?.namespace;
  if (facts.advisoryName === 'namespace:name') {
    const group = namespace || pkg.metadata?.['maven.groupId'];
    const artifact = purl?.name || pkg.name;
    return group && !pkg.name.includes(':') ? `${group}:${artifact}` : pkg.name;
  }
  if (facts.advisoryName === 'namespace/name' && namespace && purl) {
    const full = `${namespace}/${purl.name}`;
    return pkg.name.includes('/') ? pkg.name : full;
  }
  return pkg.name;
}

/** OSV stores Go versions without the `v`, and the standard library's `go1.21.3` as `1.21.3`. */
function languageVersion(pkg: Package, facts: LanguagePackageType): string {
  if (facts.versionForm !== 'go') return pkg.version;
  return pkg.version.replace(/^go/, '').replace(/^v/, '');
}
