import { isLadingError } from '../../../errors/lading-error.js';
import type { FileMeta, WantedFile, WantedFiles } from '../../../image/file.js';
import type { InflateAccount } from '../../../image/open.js';
import type { PackageFound } from '../../../model/package.js';
import type { ScanWarning } from '../../../model/warning.js';
import type { CatalogEnv, Cataloger, CatalogResult } from '../../cataloger.js';
import { errorText, locationOf, tryPurl, warn } from '../common.js';
import { isZip, listEntries, readEntry } from '../zip-reader.js';
import {
  first,
  type Headers,
  headerBlock,
  MAX_HEADER_BYTES,
  normalizePypiName,
  parseHeaders,
  pythonDependencies,
  pythonLicenses,
} from './metadata.js';

const ID = 'python';
const DIST_INFO = /\.dist-info\/METADATA$/;
const EGG_INFO_DIR = /\.egg-info\/PKG-INFO$/;
const EGG_INFO_FILE = /\.egg-info$/;
const EGG = /\.egg$/;
const EGG_PKG_INFO = 'EGG-INFO/PKG-INFO';

/**
 * Installed Python distributions: `*.dist-info/METADATA` (wheels), `*.egg-info/PKG-INFO` and `*.egg-info` files
 * (setuptools), and zipped `.egg` files (their `EGG-INFO/PKG-INFO`).
 */
export const pythonCataloger: Cataloger = {
  id: ID,
  version: 1,
  wants(path: string, meta: FileMeta): boolean {
    if (meta.type !== 'file') return false;
    return DIST_INFO.test(path) || EGG_INFO_DIR.test(path) || EGG_INFO_FILE.test(path) || EGG.test(path);
  },
  condense(path: string, content: Buffer, inflate?: InflateAccount): Buffer {
    // Only the header block is read. For an egg that is its PKG-INFO's; an unreadable egg is kept whole so
    // that cataloging reports why.
    if (!EGG.test(path)) return Buffer.from(headerBlock(content));
    try {
      const entry = listEntries(content).find((e) => e.name === EGG_PKG_INFO);
      const budget = { remaining: MAX_HEADER_BYTES * 4, image: inflate };
      return entry ? Buffer.from(headerBlock(readEntry(content, entry, budget))) : content;
    } catch (err) {
      // Past the image's inflate budget the scan stops; any other problem is reported when cataloging.
      if (isLadingError(err)) throw err;
      return content;
    }
  },
  async catalog(files: WantedFiles, env: CatalogEnv): Promise<CatalogResult> {
    const packages: PackageFound[] = [];
    const warnings: ScanWarning[] = [];
    for (const file of files.values()) {
      let headers: Headers;
      let inner: string | undefined;
      if (EGG.test(file.path) && file.condensedBy === ID && !isZip(file.content)) {
        headers = parseHeaders(file.content);
        inner = EGG_PKG_INFO;
      } else if (EGG.test(file.path)) {
        try {
          const entry = listEntries(file.content).find((e) => e.name === EGG_PKG_INFO);
          if (!entry) {
            warnings.push(warn(ID, file.path, 'egg has no EGG-INFO/PKG-INFO'));
            continue;
          }
          const budget = { remaining: env.limits.maxInflateBytes, image: env.inflate };
          headers = parseHeaders(readEntry(file.content, entry, budget));
          inner = entry.name;
        } catch (err) {
          if (isLadingError(err)) throw err;
          warnings.push(warn(ID, file.path, `cannot read egg: ${errorText(err)}`));
          continue;
        }
      } else {
        headers = parseHeaders(file.content);
      }
      const pkg = toPackage(headers, file, inner, warnings);
      if (pkg) packages.push(pkg);
    }
    return { packages, warnings };
  },
};

function toPackage(
  headers: Headers,
  file: WantedFile,
  inner: string | undefined,
  warnings: ScanWarning[],
): PackageFound | undefined {
  const name = first(headers, 'Name');
  const version = first(headers, 'Version');
  if (!name || !version) {
    warnings.push(warn(ID, file.path, `metadata has no ${name ? 'Version' : 'Name'}`));
    return undefined;
  }
  const purl = tryPurl({ type: 'pypi', name: normalizePypiName(name), version });
  if (!purl) {
    warnings.push(warn(ID, file.path, `invalid name or version: ${name} ${version}`));
    return undefined;
  }
  const pkg: PackageFound = {
    name,
    version,
    type: 'pypi',
    purl,
    licenses: pythonLicenses(headers),
    locations: [locationOf(file, inner)],
    foundBy: ID,
  };
  const deps = pythonDependencies(headers);
  if (deps.length) pkg.dependsOn = deps;
  return pkg;
}
