import type { FileMeta, WantedFile, WantedFiles } from '../../../image/file.js';
import type { PackageFound } from '../../../model/package.js';
import type { ScanWarning } from '../../../model/warning.js';
import type { Cataloger, CatalogResult } from '../../cataloger.js';
import { isRecord, locationOf, parseJson, tryPurl, warn } from '../common.js';

const ID = 'dotnet-deps';
const DEPS_JSON = /\.deps\.json$/;

/**
 * NuGet packages of a published .NET application, from its `*.deps.json`: `libraries` entries of type
 * `package` (projects and reference assemblies are the application itself or the framework).
 */
export const dotnetCataloger: Cataloger = {
  id: ID,
  version: 1,
  wants(path: string, meta: FileMeta): boolean {
    return meta.type === 'file' && DEPS_JSON.test(path);
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
      if (!isRecord(doc) || !isRecord(doc.libraries)) {
        warnings.push(warn(ID, file.path, 'deps.json has no "libraries" object'));
        continue;
      }
      const { found, unusable } = fromDeps(doc, doc.libraries, file);
      for (const pkg of found) packages.push(pkg);
      if (unusable.length > 0) {
        const sample = unusable.slice(0, 3).map((key) => JSON.stringify(key.slice(0, 64)));
        warnings.push(
          warn(ID, file.path, `${unusable.length} libraries without a valid Name/Version: ${sample.join(', ')}`),
        );
      }
    }
    return { packages, warnings };
  },
};

/** Packages of a deps.json, and the keys of `package` libraries that name none (reported, not dropped silently). */
function fromDeps(
  doc: Record<string, unknown>,
  libraries: Record<string, unknown>,
  file: WantedFile,
): { found: PackageFound[]; unusable: string[] } {
  const out: PackageFound[] = [];
  const unusable: string[] = [];
  const deps = dependencyIndex(doc);
  for (const [key, lib] of Object.entries(libraries)) {
    if (!isRecord(lib) || lib.type !== 'package') continue;
    const slash = key.lastIndexOf('/');
    const name = key.slice(0, slash);
    const version = key.slice(slash + 1);
    const purl = slash > 0 && version ? tryPurl({ type: 'nuget', name, version }) : undefined;
    if (!purl) {
      unusable.push(key);
      continue;
    }
    const pkg: PackageFound = {
      name,
      version,
      type: 'nuget',
      purl,
      licenses: [],
      locations: [locationOf(file)],
      foundBy: ID,
    };
    const dependsOn = deps.get(key);
    if (dependsOn?.length) pkg.dependsOn = dependsOn;
    if (typeof lib.sha512 === 'string' && lib.sha512.startsWith('sha512-')) {
      pkg.hashes = [{ alg: 'SHA-512', content: Buffer.from(lib.sha512.slice(7), 'base64').toString('hex') }];
    }
    out.push(pkg);
  }
  return { found: out, unusable };
}

/** `targets[runtimeTarget]["Name/Version"].dependencies`: the names each library depends on. */
function dependencyIndex(doc: Record<string, unknown>): Map<string, string[]> {
  const index = new Map<string, string[]>();
  const targetName = isRecord(doc.runtimeTarget) ? doc.runtimeTarget.name : undefined;
  const targets = isRecord(doc.targets) ? doc.targets : {};
  const target = typeof targetName === 'string' ? targets[targetName] : Object.values(targets)[0];
  if (!isRecord(target)) return index;
  for (const [key, entry] of Object.entries(target)) {
    if (isRecord(entry) && isRecord(entry.dependencies)) index.set(key, Object.keys(entry.dependencies));
  }
  return index;
}
