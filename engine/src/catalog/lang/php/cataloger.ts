import type { FileMeta, WantedFile, WantedFiles } from '../../../image/file.js';
import type { PackageFound } from '../../../model/package.js';
import type { ScanWarning } from '../../../model/warning.js';
import type { Cataloger, CatalogResult } from '../../cataloger.js';
import { isRecord, locationOf, parseJson, stringOr, tryPurl, uniq, warn } from '../common.js';

const ID = 'php-composer';
const INSTALLED = /\/vendor\/composer\/installed\.json$/;

/**
 * Packages Composer installed: `vendor/composer/installed.json`, a bare array (Composer 1) or
 * `{ "packages": [...] }` (Composer 2). Platform requirements (`php`, `ext-*`, `lib-*`) are not dependencies.
 */
export const phpComposerCataloger: Cataloger = {
  id: ID,
  version: 1,
  wants(path: string, meta: FileMeta): boolean {
    return meta.type === 'file' && INSTALLED.test(path);
  },
  async catalog(files: WantedFiles): Promise<CatalogResult> {
    const packages: PackageFound[] = [];
    const warnings: ScanWarning[] = [];
    for (const file of files.values()) {
      const parsed = parseJson(file.content);
      if ('error' in parsed) {
        warnings.push(warn(ID, file.path, parsed.error));
        continue;
      }
      const doc = parsed.value;
      const list = Array.isArray(doc) ? doc : isRecord(doc) && Array.isArray(doc.packages) ? doc.packages : undefined;
      if (!list) {
        warnings.push(warn(ID, file.path, 'installed.json is neither a package array nor { "packages": [...] }'));
        continue;
      }
      const dev = new Set(isRecord(doc) && Array.isArray(doc['dev-package-names']) ? doc['dev-package-names'] : []);
      let skipped = 0;
      for (const entry of list) {
        const pkg = isRecord(entry) ? toPackage(entry, file, dev) : undefined;
        if (pkg) packages.push(pkg);
        else skipped++;
      }
      if (skipped) warnings.push(warn(ID, file.path, `${skipped} entries without a valid name and version`));
    }
    return { packages, warnings };
  },
};

function toPackage(entry: Record<string, unknown>, file: WantedFile, dev: Set<unknown>): PackageFound | undefined {
  const name = stringOr(entry.name);
  const version = stringOr(entry.version);
  const slash = name?.indexOf('/') ?? -1;
  if (!name || !version || slash <= 0) return undefined;
  const purl = tryPurl({ type: 'composer', namespace: name.slice(0, slash), name: name.slice(slash + 1), version });
  if (!purl) return undefined;
  const license = entry.license;
  const licenses = uniq(Array.isArray(license) ? license.map(stringOr) : [stringOr(license)]);
  const pkg: PackageFound = {
    name,
    version,
    type: 'composer',
    purl,
    licenses,
    locations: [locationOf(file)],
    foundBy: ID,
  };
  const require = isRecord(entry.require) ? Object.keys(entry.require) : [];
  const deps = require.filter((d) => d.includes('/'));
  if (deps.length) pkg.dependsOn = deps;
  if (dev.has(name)) pkg.metadata = { 'composer.dev': 'true' };
  return pkg;
}
