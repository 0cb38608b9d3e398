import { isOsPackageType } from '../model/ecosystems.js';
import type { PackageFound } from '../model/package.js';

/** Top-level directories that merged-/usr systems link into /usr: dpkg lists may name either spelling. */
const USRMERGE_DIRS = ['/bin/', '/sbin/', '/lib/', '/lib32/', '/lib64/', '/libx32/'];

/** Per-package metadata directories: owning one means owning the language package described inside it. */
const METADATA_DIR = /\.(dist-info|egg-info)$/;

/**
 * Drops language packages whose files an OS package owns: Debian's python3-requests egg-info is the deb, not
 * a second PyPI package. A language package is owned when the file it was found in (or the archive, for a
 * `outer.jar!inner.jar` location) is in an OS package's file list, or when it was found inside a `.dist-info`/
 * `.egg-info` directory the list names. Shared directories (`/usr/share/java`) never make their contents owned:
 * OS file lists name directories too, and a jar a user copied there is not the OS package's.
 */
export function dropOwnedByOs(packages: readonly PackageFound[]): PackageFound[] {
  const owned = new Set<string>();
  for (const pkg of packages) {
    if (!isOsPackageType(pkg.type)) continue;
    for (const file of pkg.ownedFiles ?? []) {
      owned.add(file);
      const merged = mergedUsrPath(file);
      if (merged) owned.add(merged);
    }
  }
  if (owned.size === 0) return [...packages];
  return packages.filter((pkg) => {
    if (isOsPackageType(pkg.type)) return true;
    return !pkg.locations.some((loc) => isOwned(loc.path, owned));
  });
}

function mergedUsrPath(path: string): string | undefined {
  return USRMERGE_DIRS.some((dir) => path.startsWith(dir)) ? `/usr${path}` : undefined;
}

function isOwned(path: string, owned: ReadonlySet<string>): boolean {
  const archive = path.split('!')[0] ?? path;
  if (owned.has(path) || owned.has(archive)) return true;
  const slash = archive.lastIndexOf('/');
  if (slash <= 0) return false;
  const dir = archive.slice(0, slash);
  return METADATA_DIR.test(dir) && owned.has(dir);
}
