import type { PackageFound } from '../model/package.js';

const OS_TYPES = new Set(['deb', 'apk', 'rpm']);

/**
 * Drops language packages whose files an OS package owns: Debian's python3-requests egg-info is the deb, not
 * a second PyPI package. A language package is owned when the file it was found in is in an OS package's file list.
 */
export function dropOwnedByOs(packages: readonly PackageFound[]): PackageFound[] {
  const owned = new Set<string>();
  for (const pkg of packages) {
    if (!OS_TYPES.has(pkg.type)) continue;
    for (const file of pkg.ownedFiles ?? []) owned.add(file);
  }
  if (owned.size === 0) return [...packages];
  return packages.filter((pkg) => {
    if (OS_TYPES.has(pkg.type)) return true;
    return !pkg.locations.some((loc) => isOwned(loc.path, owned));
  });
}

function isOwned(path: string, owned: ReadonlySet<string>): boolean {
  if (owned.has(path)) return true;
  // A package found in a directory (dist-info/METADATA, a jar inside a war) is owned through the directory or archive.
  const archive = path.split('!')[0] ?? path;
  if (owned.has(archive)) return true;
  const slash = archive.lastIndexOf('/');
  return slash > 0 && owned.has(archive.slice(0, slash));
}
