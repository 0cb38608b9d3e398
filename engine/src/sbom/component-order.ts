import type { Package, PackageType } from '../model/package.js';

export const OS_PACKAGE_TYPES: ReadonlySet<PackageType> = new Set(['deb', 'apk', 'rpm']);

/** Packages in the order every SBOM lists them: independent of the order catalogers ran in. */
export function sortedPackages(packages: readonly Package[]): Package[] {
  return [...packages].sort(
    (a, b) =>
      cmp(a.type, b.type) ||
      cmp(a.name, b.name) ||
      cmp(a.version, b.version) ||
      cmp(a.purl, b.purl) ||
      cmp(a.locations[0]?.path ?? '', b.locations[0]?.path ?? '') ||
      cmp(a.id, b.id),
  );
}

/** bom-ref per package id: the purl where it is unique in the document, else the purl tagged with the package id. */
export function bomRefs(packages: readonly Package[], reserved: ReadonlySet<string>): Map<string, string> {
  const purlCount = new Map<string, number>();
  for (const pkg of packages) purlCount.set(pkg.purl, (purlCount.get(pkg.purl) ?? 0) + 1);
  const refs = new Map<string, string>();
  const used = new Set(reserved);
  for (const pkg of packages) {
    let ref = pkg.purl && purlCount.get(pkg.purl) === 1 ? pkg.purl : `${pkg.purl || pkg.name}#lading-id=${pkg.id}`;
    // Ids are unique per report, so a clash can only come from a hostile purl; keep refs unique regardless.
    for (let n = 1; used.has(ref); n++) ref = `lading-id:${pkg.id}:${n}`;
    used.add(ref);
    refs.set(pkg.id, ref);
  }
  return refs;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
