import type { FileMeta, WantedFile, WantedFiles } from '../../../image/file.js';
import type { PackageFound } from '../../../model/package.js';
import type { ScanWarning } from '../../../model/warning.js';
import type { CatalogEnv, Cataloger, CatalogResult } from '../../cataloger.js';
import { dirName, isRecord, locationOf, parseJson, tryPurl, warn } from '../common.js';
import { type NpmManifest, readNpmManifest, slimPackageJson } from './package-json.js';

const ID = 'npm';
/** A package.json directly in `node_modules/<name>/` or `node_modules/@scope/<name>/` (not `.bin`, `.pnpm`, …). */
const PACKAGE_JSON = /\/node_modules\/(?:@[^/.][^/]*\/)?[^/.@][^/]*\/package\.json$/;
const HIDDEN_LOCK = /\/node_modules\/\.package-lock\.json$/;

/**
 * Installed npm packages: every package.json in a node_modules tree, plus the entries of npm's hidden lockfile
 * (`node_modules/.package-lock.json`, lockfileVersion 2/3) that have no package.json of their own — workspace
 * packages linked into node_modules, and installs whose package.json was removed.
 * Yarn Plug'n'Play installs have no node_modules: `yarn-pnp.ts` reads them (unplugged packages are read here).
 */
export const npmCataloger: Cataloger = {
  id: ID,
  // 2: package.json files and hidden lockfiles over the file cap are skipped, not read whole to be condensed
  version: 2,
  condensesOversized: false,
  wants(path: string, meta: FileMeta): boolean {
    return meta.type === 'file' && (PACKAGE_JSON.test(path) || HIDDEN_LOCK.test(path));
  },
  condense(path: string, content: Buffer): Buffer {
    if (!PACKAGE_JSON.test(path)) return content;
    const parsed = parseJson(content);
    // Unparsable content is kept as is, so that cataloging reports it.
    return 'value' in parsed && isRecord(parsed.value)
      ? Buffer.from(JSON.stringify(slimPackageJson(parsed.value)))
      : content;
  },
  async catalog(files: WantedFiles, env: CatalogEnv): Promise<CatalogResult> {
    const packages: PackageFound[] = [];
    const warnings: ScanWarning[] = [];
    const installed = new Map<string, PackageFound>();
    for (const file of files.values()) {
      if (!PACKAGE_JSON.test(file.path)) continue;
      const parsed = parseJson(file.content);
      if ('error' in parsed || !isRecord(parsed.value)) {
        warnings.push(warn(ID, file.path, 'error' in parsed ? parsed.error : 'package.json is not an object'));
        continue;
      }
      const manifest = readNpmManifest(parsed.value);
      const pkg = toPackage(manifest, file, warnings);
      if (pkg) {
        packages.push(pkg);
        installed.set(dirName(file.path), pkg);
      }
    }
    for (const file of files.values()) {
      if (HIDDEN_LOCK.test(file.path)) {
        const max = env.limits.maxPackagesPerFile;
        for (const pkg of fromHiddenLockfile(file, installed, warnings, max)) packages.push(pkg);
      }
    }
    return { packages, warnings };
  },
};

function toPackage(
  manifest: NpmManifest,
  file: WantedFile,
  warnings: ScanWarning[],
  metadata?: Record<string, string>,
): PackageFound | undefined {
  const { name, version } = manifest;
  if (!name || !version) {
    warnings.push(warn(ID, file.path, `package has no ${name ? 'version' : 'name'}`));
    return undefined;
  }
  const scoped = /^(@[^/]+)\/(.+)$/.exec(name);
  const purl = tryPurl({
    type: 'npm',
    name: scoped?.[2] ?? name,
    version,
    ...(scoped?.[1] ? { namespace: scoped[1] } : {}),
  });
  if (!purl) {
    warnings.push(warn(ID, file.path, `invalid package name or version: ${name}@${version}`));
    return undefined;
  }
  const pkg: PackageFound = {
    name,
    version,
    type: 'npm',
    purl,
    licenses: manifest.licenses,
    locations: [locationOf(file)],
    foundBy: ID,
  };
  if (manifest.dependsOn.length) pkg.dependsOn = manifest.dependsOn;
  if (metadata && Object.keys(metadata).length) pkg.metadata = metadata;
  return pkg;
}

/**
 * Packages the lockfile knows but no package.json showed; for those a package.json did show, the lockfile adds
 * what only it records (integrity hash, dev flag).
 */
function fromHiddenLockfile(
  file: WantedFile,
  installed: Map<string, PackageFound>,
  warnings: ScanWarning[],
  maxPackages: number,
): PackageFound[] {
  const parsed = parseJson(file.content);
  if ('error' in parsed) {
    warnings.push(warn(ID, file.path, parsed.error));
    return [];
  }
  const doc = parsed.value;
  if (!isRecord(doc) || !isRecord(doc.packages)) {
    warnings.push(warn(ID, file.path, 'lockfile has no "packages" (lockfileVersion 2 or 3 expected)'));
    return [];
  }
  const root = dirName(dirName(file.path));
  const prefix = root === '/' ? '/' : `${root}/`;
  const entries = doc.packages;
  const linkTargets = new Set(
    Object.values(entries).flatMap((e) =>
      isRecord(e) && e.link === true && typeof e.resolved === 'string' ? [e.resolved] : [],
    ),
  );
  const out: PackageFound[] = [];
  for (const [key, entry] of Object.entries(entries)) {
    if (key === '' || !isRecord(entry) || entry.link === true) continue;
    const known = installed.get(`${prefix}${key}`);
    if (known) {
      enrich(known, entry);
      continue;
    }
    // Entries name their package by the install path; workspace targets (`packages/util`) carry a `name`.
    const fromPath = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(key)?.[1];
    const manifest = readNpmManifest(entry);
    manifest.name ??= fromPath;
    const linked = linkTargets.has(key);
    if (!fromPath && !linked) continue;
    const metadata: Record<string, string> = { 'npm.lockPath': key };
    if (linked) metadata['npm.workspace'] = 'true';
    const pkg = toPackage(manifest, file, warnings, metadata);
    if (pkg) {
      enrich(pkg, entry);
      out.push(pkg);
      // One past the cap is enough for the catalog run to keep the first ones and report the file as a gap.
      if (out.length > maxPackages) break;
    }
  }
  return out;
}

const SRI_ALGS: Record<string, string> = { sha512: 'SHA-512', sha384: 'SHA-384', sha256: 'SHA-256', sha1: 'SHA-1' };

function enrich(pkg: PackageFound, entry: Record<string, unknown>): void {
  if (entry.dev === true) pkg.metadata = { ...pkg.metadata, 'npm.dev': 'true' };
  if (typeof entry.integrity !== 'string' || pkg.hashes) return;
  // Subresource-integrity strings: `sha512-<base64>`, possibly several separated by spaces.
  const hashes = entry.integrity.split(/\s+/).flatMap((sri) => {
    const dash = sri.indexOf('-');
    const alg = SRI_ALGS[sri.slice(0, dash)];
    const hex = Buffer.from(sri.slice(dash + 1), 'base64').toString('hex');
    return alg && hex ? [{ alg, content: hex }] : [];
  });
  if (hashes.length) pkg.hashes = hashes;
}
