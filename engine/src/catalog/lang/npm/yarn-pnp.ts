import { posix } from 'node:path';
import type { FileMeta, WantedFile, WantedFiles } from '../../../image/file.js';
import type { PackageFound } from '../../../model/package.js';
import type { ScanWarning } from '../../../model/warning.js';
import type { Cataloger, CatalogResult } from '../../cataloger.js';
import { baseName, dirName, errorText, parseJson, tryPurl, warn } from '../common.js';
import { type PnpPackage, PnpStateError, pnpPackages, pnpStateText, pnpVersion } from './pnp-state.js';

const ID = 'yarn-pnp';
const PNP_FILES = new Set(['.pnp.cjs', '.pnp.js', '.pnp.data.json']);
/** A project cache (`.yarn/cache`, zero-installs) or Yarn's global one (`~/.yarn/berry/cache`). */
const CACHE_ZIP = /\/\.yarn\/(?:berry\/)?cache\/[^/]+\.zip$/;

type Condensed = { packages: PnpPackage[] } | { error: string };

/**
 * Yarn Plug'n'Play installs: no node_modules, packages stay zipped in the Yarn cache and `.pnp.cjs` maps each to
 * its zip. The map is the install's truth (the cache can hold more), so packages come from it, located inside
 * their zip and attributed to the zip's layer. Unplugged packages are real folders with a package.json under
 * node_modules, which the npm cataloger reports; virtual (peer-dependency) instances repeat a real package.
 * Licenses are not read (they would need every zip opened).
 */
export const yarnPnpCataloger: Cataloger = {
  id: ID,
  version: 1,
  wants(path: string, meta: FileMeta): boolean {
    return meta.type === 'file' && (PNP_FILES.has(baseName(path)) || CACHE_ZIP.test(path));
  },
  condense(path: string, content: Buffer): Buffer {
    // Of a cache zip only its layer is used: keep none of its bytes.
    if (CACHE_ZIP.test(path)) return Buffer.alloc(0);
    return Buffer.from(JSON.stringify(readPnp(path, content)));
  },
  async catalog(files: WantedFiles): Promise<CatalogResult> {
    const packages: PackageFound[] = [];
    const warnings: ScanWarning[] = [];
    const notes = new Set<ScanWarning>();
    for (const file of chosenPnpFiles(files)) {
      let condensed: Condensed;
      if (file.condensedBy === ID) {
        const parsed = parseJson(file.content);
        condensed = 'value' in parsed ? (parsed.value as Condensed) : { error: parsed.error };
      } else condensed = readPnp(file.path, file.content);
      if ('error' in condensed) {
        warnings.push(warn(ID, file.path, condensed.error));
        continue;
      }
      for (const pkg of fromState(file, condensed.packages, files, warnings, notes)) packages.push(pkg);
    }
    return { packages, warnings, notes };
  },
};

function readPnp(path: string, content: Buffer): Condensed {
  try {
    return { packages: pnpPackages(pnpStateText(content, path.endsWith('.json'))) };
  } catch (err) {
    if (err instanceof PnpStateError || err instanceof RangeError) return { error: errorText(err) };
    throw err;
  }
}

/** One PnP file per project: `.pnp.data.json` when Yarn wrote one (the `.pnp.cjs` beside it has no state). */
function chosenPnpFiles(files: WantedFiles): WantedFile[] {
  const byDir = new Map<string, WantedFile>();
  const rank = (path: string) => ['.pnp.data.json', '.pnp.cjs', '.pnp.js'].indexOf(baseName(path));
  for (const file of files.values()) {
    if (!PNP_FILES.has(baseName(file.path))) continue;
    const dir = dirName(file.path);
    const known = byDir.get(dir);
    if (!known || rank(file.path) < rank(known.path)) byDir.set(dir, file);
  }
  return [...byDir.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

function fromState(
  file: WantedFile,
  state: readonly PnpPackage[],
  files: WantedFiles,
  warnings: ScanWarning[],
  notes: Set<ScanWarning>,
): PackageFound[] {
  const out: PackageFound[] = [];
  const seen = new Set<string>();
  const unversioned: string[] = [];
  const projectDir = dirName(file.path);
  for (const entry of state) {
    if (entry.reference.startsWith('virtual:') || entry.reference.startsWith('workspace:')) continue;
    const location = posix.normalize(posix.join(projectDir, entry.packageLocation));
    const zipEnd = location.indexOf('.zip/');
    // Not zipped: unplugged or linked, a real folder the npm cataloger reads.
    if (zipEnd < 0) continue;
    const version = pnpVersion(entry.reference);
    if (!version) {
      unversioned.push(`${entry.name}@${entry.reference}`);
      continue;
    }
    const zipPath = location.slice(0, zipEnd + '.zip'.length);
    const inner = `${location.slice(zipEnd + '.zip/'.length).replace(/\/?$/, '/')}package.json`;
    const key = `${entry.name}@${version}@${zipPath}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const scoped = /^(@[^/]+)\/(.+)$/.exec(entry.name);
    const purl = tryPurl({
      type: 'npm',
      name: scoped?.[2] ?? entry.name,
      version,
      ...(scoped?.[1] ? { namespace: scoped[1] } : {}),
    });
    if (!purl) {
      warnings.push(warn(ID, file.path, `invalid package name or version: ${entry.name}@${version}`));
      continue;
    }
    const layer = files.get(zipPath)?.layer ?? file.layer;
    const pkg: PackageFound = {
      name: entry.name,
      version,
      type: 'npm',
      purl,
      licenses: [],
      locations: [layer ? { path: `${zipPath}!/${inner}`, layer } : { path: `${zipPath}!/${inner}` }],
      foundBy: ID,
    };
    const dependsOn = [...new Set(entry.dependencies)].sort();
    if (dependsOn.length > 0) pkg.dependsOn = dependsOn;
    out.push(pkg);
  }
  if (unversioned.length > 0) {
    const some = unversioned.slice(0, 3).join(', ');
    // Workspace, git and file packages: no advisory names them, so leaving them out hides nothing (a note).
    const note = warn(
      ID,
      file.path,
      `${unversioned.length} zipped packages without a registry version not reported (${some})`,
    );
    warnings.push(note);
    notes.add(note);
  }
  return out;
}
