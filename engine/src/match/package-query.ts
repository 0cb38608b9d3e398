import type { OsInfo } from '../model/os.js';
import type { Package, PackageType } from '../model/package.js';
import { parsePurl } from '../model/purl.js';

/** What to look up for one package: the OSV ecosystem, the names advisories may use, the version to compare. */
export interface PackageQuery {
  ecosystem: string;
  names: string[];
  version: string;
}

const LANGUAGE_ECOSYSTEMS: Partial<Record<PackageType, string>> = {
  npm: 'npm',
  pypi: 'PyPI',
  golang: 'Go',
  maven: 'Maven',
  gem: 'RubyGems',
  cargo: 'crates.io',
  composer: 'Packagist',
  nuget: 'NuGet',
};

/**
 * OS packages are matched in the release's ecosystem by the name the distro's advisories use: Debian and Ubuntu
 * by source package and source version (a binNMU `+b1` or a differently versioned binary must not decide), Alpine
 * by origin; rpm distros publish binary (Red Hat) or source (Alma, Rocky, SUSE) names, so both are tried.
 * Returns a reason string when the package cannot be matched.
 */
export function queryFor(pkg: Package, os: OsInfo | undefined): PackageQuery | string {
  switch (pkg.type) {
    case 'deb':
    case 'apk':
    case 'rpm': {
      if (!os?.ecosystem) return 'no OSV ecosystem known for the operating system';
      if (pkg.type === 'deb') {
        return {
          ecosystem: os.ecosystem,
          names: [pkg.source?.name || pkg.name],
          version: pkg.source?.version || pkg.version,
        };
      }
      if (pkg.type === 'apk')
        return { ecosystem: os.ecosystem, names: [pkg.source?.name || pkg.name], version: pkg.version };
      const names = [pkg.name];
      if (pkg.source?.name && pkg.source.name !== pkg.name) names.push(pkg.source.name);
      return { ecosystem: os.ecosystem, names, version: pkg.version };
    }
    default: {
      const ecosystem = LANGUAGE_ECOSYSTEMS[pkg.type];
      if (!ecosystem) return `no OSV ecosystem for package type ${pkg.type}`;
      return { ecosystem, names: [languageName(pkg)], version: languageVersion(pkg) };
    }
  }
}

/** The advisory name: Maven `group:artifact`, npm `@scope/name`, Go and Packagist full paths (from the purl). */
function languageName(pkg: Package): string {
  const purl = parsePurl(pkg.purl);
  const namespace = purl?.namespace;
  if (pkg.type === 'maven') {
    const group = namespace || pkg.metadata?.['maven.groupId'];
    const artifact = purl?.name || pkg.name;
    return group && !pkg.name.includes(':') ? `${group}:${artifact}` : pkg.name;
  }
  if ((pkg.type === 'npm' || pkg.type === 'golang' || pkg.type === 'composer') && namespace && purl) {
    const full = `${namespace}/${purl.name}`;
    return pkg.name.includes('/') ? pkg.name : full;
  }
  return pkg.name;
}

/** OSV stores Go versions without the `v`, and the standard library's `go1.21.3` as `1.21.3`. */
function languageVersion(pkg: Package): string {
  if (pkg.type !== 'golang') return pkg.version;
  return pkg.version.replace(/^go/, '').replace(/^v/, '');
}
