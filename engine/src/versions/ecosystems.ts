import { LadingError } from '../errors/lading-error.js';
import { osvEcosystemSchemes, type VersionSchemeName } from '../model/ecosystems.js';
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

/** Each scheme the ecosystem table (model/ecosystems.ts) names, bound to its comparator: a missing one is a type error. */
export const SCHEMES_BY_NAME: Readonly<Record<VersionSchemeName, VersionScheme>> = {
  dpkg: dpkgScheme,
  apk: apkScheme,
  rpm: rpmScheme,
  npm: npmScheme,
  pypi: pypiScheme,
  go: goScheme,
  maven: mavenScheme,
  rubygems: rubygemsScheme,
  nuget: nugetScheme,
  packagist: packagistScheme,
  semver2: semver2Scheme,
};

const OSV_ECOSYSTEMS = osvEcosystemSchemes();

/** OSV ecosystem name (release suffix removed, lower-cased) → the scheme its versions follow. */
const SCHEMES: ReadonlyMap<string, VersionScheme> = new Map(
  OSV_ECOSYSTEMS.map(([osv, scheme]) => [osv.toLowerCase(), SCHEMES_BY_NAME[scheme]]),
);

const KNOWN = OSV_ECOSYSTEMS.map(([osv]) => osv).join(', ');

/** `Debian:12` → `debian`; `Red Hat:enterprise_linux:9::appstream` → `red hat`. */
export function baseEcosystem(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  return (colon === -1 ? ecosystem : ecosystem.slice(0, colon)).trim().toLowerCase();
}

/** The comparator for an OSV ecosystem name (case-insensitive, release suffix allowed); USAGE error if unknown. */
export function comparatorFor(ecosystem: string): VersionScheme {
  const scheme = SCHEMES.get(baseEcosystem(ecosystem));
  if (!scheme) throw new LadingError('USAGE', `unknown ecosystem "${ecosystem}" (known: ${KNOWN})`);
  return scheme;
}

export function isKnownEcosystem(ecosystem: string): boolean {
  return SCHEMES.has(baseEcosystem(ecosystem));
}
