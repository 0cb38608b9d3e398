import type { FileMeta, WantedFiles } from '../../../image/file.js';
import type { PackageFound } from '../../../model/package.js';
import type { ScanWarning } from '../../../model/warning.js';
import type { Cataloger, CatalogResult } from '../../cataloger.js';
import { locationOf, tryPurl, warn } from '../common.js';
import { parseGemspec } from './gemspec.js';

const ID = 'ruby-gemspec';
const GEMSPEC = /\/specifications\/[^/]+\.gemspec$/;
/** Installed specifications are a few KiB; anything bigger is not one. */
const MAX_GEMSPEC = 1024 * 1024;

/** Installed gems: the `specifications/*.gemspec` files RubyGems writes for every installed gem. */
export const rubyCataloger: Cataloger = {
  id: ID,
  version: 1,
  wants(path: string, meta: FileMeta): boolean {
    return meta.type === 'file' && GEMSPEC.test(path);
  },
  async catalog(files: WantedFiles): Promise<CatalogResult> {
    const packages: PackageFound[] = [];
    const warnings: ScanWarning[] = [];
    for (const file of files.values()) {
      if (file.content.length > MAX_GEMSPEC) {
        warnings.push(warn(ID, file.path, 'gemspec larger than 1 MiB: not read'));
        continue;
      }
      const spec = parseGemspec(file.content.toString('utf8'));
      const purl =
        spec.name && spec.version ? tryPurl({ type: 'gem', name: spec.name, version: spec.version }) : undefined;
      if (!spec.name || !spec.version || !purl) {
        warnings.push(warn(ID, file.path, 'no gem name and version found'));
        continue;
      }
      const pkg: PackageFound = {
        name: spec.name,
        version: spec.version,
        type: 'gem',
        purl,
        licenses: spec.licenses,
        locations: [locationOf(file)],
        foundBy: ID,
      };
      if (spec.dependsOn.length) pkg.dependsOn = spec.dependsOn;
      packages.push(pkg);
    }
    return { packages, warnings };
  },
};
