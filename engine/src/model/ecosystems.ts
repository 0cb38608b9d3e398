/*
 * The one table of what Lading knows about each ecosystem. Everything else (the report schema's package-type enum,
 * the version comparators, SBOM type aliases, advisory-name rules, os-release and purl-namespace families) is
 * derived from it, so adding an ecosystem is one entry here (plus, for a new version scheme, its comparator in
 * versions/). It imports nothing, so model/ stays free of dependencies.
 */

/** The version orders implemented in versions/ (versions/ecosystems.ts binds each name to its comparator). */
export type VersionSchemeName =
  | 'dpkg'
  | 'apk'
  | 'rpm'
  | 'npm'
  | 'pypi'
  | 'go'
  | 'maven'
  | 'rubygems'
  | 'nuget'
  | 'packagist'
  | 'semver2';

/**
 * How a package name becomes the key advisories are looked up by (the store's index and the matcher use the same):
 * `exact` (trimmed, case kept), `lower` (registries that resolve names case-insensitively), `pep503` (PyPI:
 * lower-case, runs of `-_.` become one `-`), `cargo` (crates.io: lower-case, `_` and `-` alike).
 */
export type NameKeyRule = 'exact' | 'lower' | 'pep503' | 'cargo';

/**
 * How the advisory name is spelt from the purl: `name` alone, `namespace/name` (npm `@scope/name`, Go module paths,
 * Packagist `vendor/package`) or `namespace:name` (Maven `group:artifact`).
 */
export type AdvisoryNameForm = 'name' | 'namespace/name' | 'namespace:name';

interface PackageTypeCommon {
  /** The order the ecosystem's versions follow. */
  scheme: VersionSchemeName;
  /** Syft's package type names for it (its `syft:package:type` property and SPDXIDs), used for CPE-only components. */
  syftTypes: readonly string[];
}

/** An OS package type: its OSV ecosystem is the distribution release's (see OS_FAMILIES), never fixed here. */
export interface OsPackageType extends PackageTypeCommon {
  kind: 'os';
  /**
   * The name and version the distribution's advisories use: `source` (source package and source version: Debian,
   * Ubuntu; a binNMU `+b1` must not decide), `origin` (source package name, binary version: Alpine), or
   * `binary-or-source` (rpm distributions publish binary (Red Hat) or source (Alma, Rocky, SUSE) names: both tried).
   */
  advisoryName: 'source' | 'origin' | 'binary-or-source';
}

/** A language package type: one OSV ecosystem whatever the image's distribution. */
export interface LanguagePackageType extends PackageTypeCommon {
  kind: 'language';
  /** The OSV ecosystem name, as published (`PyPI`, `crates.io`). */
  osv: string;
  nameKey: NameKeyRule;
  advisoryName: AdvisoryNameForm;
  /** `go`: OSV stores Go versions without the `v` and the toolchain's `go1.21.3` as `1.21.3`. */
  versionForm?: 'go';
}

export type PackageTypeFacts = OsPackageType | LanguagePackageType;

/** Per purl type Lading reports (docs/report.md, "packages[]"): every fact the engine needs about it. */
export const PACKAGE_TYPES = {
  deb: { kind: 'os', scheme: 'dpkg', advisoryName: 'source', syftTypes: ['deb'] },
  apk: { kind: 'os', scheme: 'apk', advisoryName: 'origin', syftTypes: ['apk'] },
  rpm: { kind: 'os', scheme: 'rpm', advisoryName: 'binary-or-source', syftTypes: ['rpm'] },
  npm: {
    kind: 'language',
    osv: 'npm',
    scheme: 'npm',
    // npm only has legacy mixed-case names, but they resolve case-insensitively in advisories
    nameKey: 'lower',
    advisoryName: 'namespace/name',
    syftTypes: ['npm'],
  },
  pypi: {
    kind: 'language',
    osv: 'PyPI',
    scheme: 'pypi',
    nameKey: 'pep503',
    advisoryName: 'name',
    syftTypes: ['python'],
  },
  golang: {
    kind: 'language',
    osv: 'Go',
    scheme: 'go',
    nameKey: 'lower',
    advisoryName: 'namespace/name',
    versionForm: 'go',
    syftTypes: ['go-module'],
  },
  maven: {
    kind: 'language',
    osv: 'Maven',
    scheme: 'maven',
    nameKey: 'lower',
    advisoryName: 'namespace:name',
    syftTypes: ['java-archive', 'jenkins-plugin'],
  },
  gem: {
    kind: 'language',
    osv: 'RubyGems',
    scheme: 'rubygems',
    nameKey: 'exact',
    advisoryName: 'name',
    syftTypes: ['gem'],
  },
  cargo: {
    kind: 'language',
    osv: 'crates.io',
    scheme: 'semver2',
    nameKey: 'cargo',
    advisoryName: 'name',
    syftTypes: ['rust-crate'],
  },
  composer: {
    kind: 'language',
    osv: 'Packagist',
    scheme: 'packagist',
    nameKey: 'lower',
    advisoryName: 'namespace/name',
    syftTypes: ['php-composer'],
  },
  nuget: {
    kind: 'language',
    osv: 'NuGet',
    scheme: 'nuget',
    nameKey: 'lower',
    advisoryName: 'name',
    syftTypes: ['dotnet'],
  },
} as const satisfies Record<string, PackageTypeFacts>;

/** purl types Lading reports: the keys of PACKAGE_TYPES. */
export type PackageType = keyof typeof PACKAGE_TYPES;
export type OsPackageTypeName = {
  [T in PackageType]: (typeof PACKAGE_TYPES)[T]['kind'] extends 'os' ? T : never;
}[PackageType];

/** A distribution (by os-release ID): the OSV ecosystem its packages are matched in, and its package type. */
export interface OsFamilyFacts {
  /** The OSV ecosystem prefix (before the release, `Debian` of `Debian:12`). */
  osv: string;
  packageType: OsPackageTypeName;
  /** purl namespaces (vendor names) that SBOM tools write for this distribution when they differ from its ID. */
  purlNamespaces?: readonly string[];
}

/**
 * OS families, keyed by os-release ID. The OSV prefix is what `catalog/os/release/ecosystem.ts` puts before the
 * release (that file decides how each distribution's release is spelt, or that it cannot be told); the scheme is
 * the package type's.
 */
export const OS_FAMILIES = {
  debian: { osv: 'Debian', packageType: 'deb' },
  ubuntu: { osv: 'Ubuntu', packageType: 'deb' },
  alpine: { osv: 'Alpine', packageType: 'apk' },
  wolfi: { osv: 'Wolfi', packageType: 'apk' },
  chainguard: { osv: 'Chainguard', packageType: 'apk' },
  alpaquita: { osv: 'Alpaquita', packageType: 'apk' },
  rhel: { osv: 'Red Hat', packageType: 'rpm', purlNamespaces: ['redhat'] },
  rocky: { osv: 'Rocky Linux', packageType: 'rpm' },
  almalinux: { osv: 'AlmaLinux', packageType: 'rpm', purlNamespaces: ['alma'] },
  sles: { osv: 'SUSE', packageType: 'rpm', purlNamespaces: ['suse'] },
  'opensuse-leap': { osv: 'openSUSE', packageType: 'rpm', purlNamespaces: ['opensuse'] },
  azurelinux: { osv: 'Azure Linux', packageType: 'rpm' },
  // CBL-Mariner's own OSV ecosystem (older advisories); os-release `mariner` images are matched in Azure Linux
  mariner: { osv: 'Mariner', packageType: 'rpm' },
  photon: { osv: 'Photon OS', packageType: 'rpm' },
  ol: { osv: 'Oracle Linux', packageType: 'rpm' },
  amzn: { osv: 'Amazon Linux', packageType: 'rpm', purlNamespaces: ['amazon'] },
  openeuler: { osv: 'openEuler', packageType: 'rpm' },
  mageia: { osv: 'Mageia', packageType: 'rpm' },
} as const satisfies Record<string, OsFamilyFacts>;

export type OsFamily = keyof typeof OS_FAMILIES;

/**
 * OSV ecosystems whose versions Lading can order (`lading version compare`, advisory ranges) although no cataloger
 * reports their packages yet.
 */
export const ADVISORY_ONLY_ECOSYSTEMS = {
  Hex: 'semver2',
  Pub: 'semver2',
} as const satisfies Record<string, VersionSchemeName>;

/** Every purl type Lading reports, in table order (the report schema's `type` enum). */
export const PACKAGE_TYPE_NAMES: readonly PackageType[] = Object.freeze(Object.keys(PACKAGE_TYPES) as PackageType[]);

export function isPackageType(type: string): type is PackageType {
  return Object.hasOwn(PACKAGE_TYPES, type);
}

export function isOsPackageType(type: string): type is OsPackageTypeName {
  return (PACKAGE_TYPES as Readonly<Record<string, PackageTypeFacts | undefined>>)[type]?.kind === 'os';
}

/** The facts of a package type, widened to the interface (so optional fields read as optional). */
export function packageTypeFacts(type: PackageType): PackageTypeFacts {
  return PACKAGE_TYPES[type];
}

/** Each OSV ecosystem name (as published) with the version scheme it follows: OS families, language types, the rest. */
export function osvEcosystemSchemes(): [osv: string, scheme: VersionSchemeName][] {
  const out = new Map<string, VersionSchemeName>();
  for (const family of Object.values(OS_FAMILIES) as OsFamilyFacts[]) {
    out.set(family.osv, PACKAGE_TYPES[family.packageType].scheme);
  }
  for (const facts of Object.values(PACKAGE_TYPES) as PackageTypeFacts[]) {
    if (facts.kind === 'language') out.set(facts.osv, facts.scheme);
  }
  for (const [osv, scheme] of Object.entries(ADVISORY_ONLY_ECOSYSTEMS)) out.set(osv, scheme);
  return [...out];
}

const LANGUAGE_BY_OSV: ReadonlyMap<string, LanguagePackageType> = new Map(
  (Object.values(PACKAGE_TYPES) as PackageTypeFacts[]).flatMap((facts) =>
    facts.kind === 'language' ? [[facts.osv, facts] as const] : [],
  ),
);

/** The language package type whose OSV ecosystem is `osv` (base name, as published), if any. */
export function languageTypeOf(osv: string): LanguagePackageType | undefined {
  return LANGUAGE_BY_OSV.get(osv);
}

/** Syft package type name → purl type (`python` → `pypi`, `go-module` → `golang`). */
export function packageTypeFromSyft(syftType: string): PackageType | undefined {
  for (const type of PACKAGE_TYPE_NAMES) {
    if ((PACKAGE_TYPES[type].syftTypes as readonly string[]).includes(syftType)) return type;
  }
  return undefined;
}

/** Every Syft package type name the table knows. */
export function syftTypeNames(): string[] {
  return PACKAGE_TYPE_NAMES.flatMap((type) => [...PACKAGE_TYPES[type].syftTypes]);
}

/** A purl namespace (`redhat`, `amazon`) → the os-release ID of its distribution (`rhel`, `amzn`), if it differs. */
export function familyOfPurlNamespace(namespace: string): string | undefined {
  for (const [family, facts] of Object.entries(OS_FAMILIES) as [string, OsFamilyFacts][]) {
    if (facts.purlNamespaces?.includes(namespace)) return family;
  }
  return undefined;
}
