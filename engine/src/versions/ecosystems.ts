import { LadingError } from '../errors/lading-error.js';
import { apkScheme } from './apk.js';
import { dpkgScheme } from './dpkg.js';
import { goScheme } from './go.js';
import { mavenScheme } from './maven.js';
import { npmScheme } from './npm.js';
import { nugetScheme } from './nuget.js';
import { packagistScheme } from './packagist.js';
import { pypiScheme } from './pypi.js';
import { rpmScheme } from './rpm.js';
import { rubygemsScheme } from './rubygems.js';
import type { VersionScheme } from './scheme.js';
import { semver2Scheme } from './semver2.js';

/** OSV ecosystem name (release suffix removed, lower-cased) → the scheme its versions follow. */
const SCHEMES: ReadonlyMap<string, VersionScheme> = new Map<string, VersionScheme>([
  ['debian', dpkgScheme],
  ['ubuntu', dpkgScheme],
  ['alpine', apkScheme],
  ['wolfi', apkScheme],
  ['chainguard', apkScheme],
  ['alpaquita', apkScheme],
  ['red hat', rpmScheme],
  ['rocky linux', rpmScheme],
  ['almalinux', rpmScheme],
  ['suse', rpmScheme],
  ['opensuse', rpmScheme],
  ['azure linux', rpmScheme],
  ['mariner', rpmScheme],
  ['photon os', rpmScheme],
  ['oracle linux', rpmScheme],
  ['amazon linux', rpmScheme],
  ['openeuler', rpmScheme],
  ['mageia', rpmScheme],
  ['npm', npmScheme],
  ['pypi', pypiScheme],
  ['go', goScheme],
  ['maven', mavenScheme],
  ['rubygems', rubygemsScheme],
  ['nuget', nugetScheme],
  ['packagist', packagistScheme],
  ['crates.io', semver2Scheme],
  ['hex', semver2Scheme],
  ['pub', semver2Scheme],
]);

/** `Debian:12` → `debian`; `Red Hat:enterprise_linux:9::appstream` → `red hat`. */
export function baseEcosystem(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  return (colon === -1 ? ecosystem : ecosystem.slice(0, colon)).trim().toLowerCase();
}

/** The comparator for an OSV ecosystem name (case-insensitive, release suffix allowed); USAGE error if unknown. */
export function comparatorFor(ecosystem: string): VersionScheme {
  const scheme = SCHEMES.get(baseEcosystem(ecosystem));
  if (!scheme) {
    throw new LadingError(
      'USAGE',
      `unknown ecosystem "${ecosystem}" (known: Debian, Ubuntu, Alpine, Wolfi, Chainguard, Red Hat, Rocky Linux, AlmaLinux, SUSE, openSUSE, Azure Linux, Mariner, Photon OS, Oracle Linux, Amazon Linux, npm, PyPI, Go, Maven, RubyGems, NuGet, Packagist, crates.io, Hex, Pub)`,
    );
  }
  return scheme;
}

export function isKnownEcosystem(ecosystem: string): boolean {
  return SCHEMES.has(baseEcosystem(ecosystem));
}
