import { isLadingError } from '../../../errors/lading-error.js';
import type { FileMeta, WantedFiles } from '../../../image/file.js';
import type { InflateAccount } from '../../../image/open.js';
import type { PackageFound } from '../../../model/package.js';
import type { ScanWarning } from '../../../model/warning.js';
import { type CatalogEnv, type Cataloger, type CatalogResult, DEFAULT_LIMITS } from '../../cataloger.js';
import { baseName, errorText, locationOf, warn } from '../common.js';
import { isJavaArchivePath, type JavaScan, scanJavaArchive } from './archive.js';

const ID = 'java-archive';

/**
 * Java archives (jar, war, ear, par, jpi, hpi) and the archives nested in them. The walk condenses each archive
 * to the packages found in it (with default limits: condense has no env), so no archive is held in memory.
 */
export const javaArchiveCataloger: Cataloger = {
  id: ID,
  version: 1,
  wants(path: string, meta: FileMeta): boolean {
    return meta.type === 'file' && meta.size > 0 && isJavaArchivePath(path);
  },
  condense(path: string, content: Buffer, inflate?: InflateAccount): Buffer {
    let scan: JavaScan;
    try {
      scan = scanJavaArchive(content, baseName(path), DEFAULT_LIMITS, inflate);
    } catch (err) {
      // Past the image's inflate budget the scan stops, as for a layer that inflates past it.
      if (isLadingError(err)) throw err;
      // The walk must survive any file; the problem is reported when cataloging.
      scan = { packages: [], problems: [{ message: `cannot read Java archive: ${errorText(err)}` }] };
    }
    return Buffer.from(JSON.stringify(scan));
  },
  async catalog(files: WantedFiles, env: CatalogEnv): Promise<CatalogResult> {
    const packages: PackageFound[] = [];
    const warnings: ScanWarning[] = [];
    for (const file of files.values()) {
      let scan: JavaScan;
      try {
        scan =
          file.condensedBy === ID
            ? (JSON.parse(file.content.toString('utf8')) as JavaScan)
            : scanJavaArchive(file.content, baseName(file.path), env.limits, env.inflate);
      } catch (err) {
        if (isLadingError(err)) throw err;
        warnings.push(warn(ID, file.path, errorText(err)));
        continue;
      }
      for (const problem of scan.problems) {
        warnings.push(warn(ID, problem.inner ? `${file.path}!/${problem.inner}` : file.path, problem.message));
      }
      for (const pkg of scan.packages) {
        packages.push({
          name: pkg.name,
          version: pkg.version,
          type: 'maven',
          purl: pkg.purl,
          licenses: pkg.licenses,
          locations: [locationOf(file, pkg.inner)],
          foundBy: ID,
          metadata: pkg.metadata,
          ...(pkg.sha1 ? { hashes: [{ alg: 'SHA-1', content: pkg.sha1 }] } : {}),
        });
      }
    }
    return { packages, warnings };
  },
};
