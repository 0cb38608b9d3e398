import type { WantedFile } from '../../../image/file.js';
import type { OsInfo } from '../../../model/os.js';
import type { PackageFound } from '../../../model/package.js';
import { buildPurl } from '../../../model/purl.js';
import type { Cataloger } from '../../cataloger.js';
import { distroQualifier, rpmNamespace } from '../distro.js';
import { attributeLayers } from '../layer-attribution.js';
import { WarningSink } from '../warnings.js';
import { DatabaseError } from './blobs.js';
import { isRpmDatabase, isRpmWal, preferredPaths, readerFor } from './databases.js';
import { HeaderError, type RpmPackageInfo, readPackage } from './header.js';
import { parseSourceRpm } from './source-rpm.js';

/** rpm: SQLite, NDB and Berkeley DB package databases; one database per image (the live one). */
export const rpmCataloger: Cataloger = {
  id: 'rpm',
  version: 2,
  wants: (path) => isRpmDatabase(path) || isRpmWal(path),
  wantsHistory: (path) => isRpmDatabase(path),
  async catalog(files, env) {
    const sink = new WarningSink('rpm');
    const path = preferredPaths().find((p) => (files.get(p)?.content.length ?? 0) > 0);
    const file = path ? files.get(path) : undefined;
    if (!file) return { packages: [], warnings: sink.list, notes: sink.notes };
    const wal = files.get(`${file.path}-wal`);
    const packages = catalogDatabase(file, wal?.content, env.os, sink, env.limits.maxPackagesPerFile);
    return { packages, warnings: sink.list, notes: sink.notes };
  },
};

/** Each package's identity in a database: name and arch (multilib installs both i686 and x86_64). */
function keyOf(info: RpmPackageInfo): string {
  return `${info.name}.${info.arch ?? ''}`;
}

function evr(info: RpmPackageInfo): string {
  const vr = `${info.version}-${info.release}`;
  return info.epoch !== undefined ? `${info.epoch}:${vr}` : vr;
}

/** rpmbuild's own character rules (build/parsePreamble.c): names, versions and releases are printable ASCII. */
const RPM_NAME = /^[A-Za-z0-9_+.%{}-]+$/;
const RPM_VERSION = /^[A-Za-z0-9_+.%{}~^]+$/;
const RPM_ARCH = /^[A-Za-z0-9_]+$/;

function infoProblem(info: RpmPackageInfo): string | undefined {
  if (!RPM_NAME.test(info.name)) return `invalid package name ${quoted(info.name)}`;
  for (const [what, value] of [
    ['version', info.version],
    ['release', info.release],
  ] as const) {
    if (!RPM_VERSION.test(value)) return `package ${info.name} has an invalid ${what} ${quoted(value)}`;
  }
  if (info.arch !== undefined && !RPM_ARCH.test(info.arch)) {
    return `package ${info.name} has an invalid architecture ${quoted(info.arch)}`;
  }
  return undefined;
}

function quoted(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function readInfos(
  file: WantedFile,
  content: Buffer,
  withFiles: boolean,
  sink?: WarningSink,
  wal?: Buffer,
  maxPackages = Number.POSITIVE_INFINITY,
): RpmPackageInfo[] | undefined {
  const read = readerFor(file.path);
  if (!read) return undefined;
  let blobs: Buffer[];
  try {
    const result = read(content, wal);
    for (const problem of result.problems) sink?.add(file.path, problem);
    blobs = result.blobs;
  } catch (err) {
    if (!(err instanceof DatabaseError)) throw err;
    sink?.add(file.path, err.message);
    return undefined;
  }
  const infos: RpmPackageInfo[] = [];
  for (const [i, blob] of blobs.entries()) {
    try {
      const info = readPackage(blob, withFiles);
      // The imported signing keys are stored as pseudo-packages; they are not software.
      if (info.name === 'gpg-pubkey') continue;
      const problem = infoProblem(info);
      if (problem) sink?.add(file.path, `package header ${i + 1}: ${problem}; skipped`);
      else infos.push(info);
      // One past the cap is enough for the catalog run to keep the first ones and report the file as a gap.
      if (infos.length > maxPackages) break;
    } catch (err) {
      if (!(err instanceof HeaderError) && !(err instanceof RangeError)) throw err;
      sink?.add(file.path, `package header ${i + 1}: ${err.message}; skipped`);
    }
  }
  return infos;
}

function catalogDatabase(
  file: WantedFile,
  wal: Buffer | undefined,
  os: OsInfo | undefined,
  sink: WarningSink,
  maxPackages: number,
): PackageFound[] {
  // Older layers' versions are read without their WAL (the walk keeps no history for it): rpm checkpoints when
  // it closes the database, so a layer's committed state is nearly always in the main file.
  const infos = readInfos(file, file.content, true, sink, wal, maxPackages) ?? [];
  const unique = new Map<string, RpmPackageInfo>();
  for (const info of infos) {
    const key = keyOf(info);
    // Several versions of one name.arch are normal for kernels; keep each version.
    const existing = unique.get(key);
    const versionedKey = existing ? `${key}@${evr(info)}` : key;
    if ((existing && evr(existing) === evr(info)) || unique.has(versionedKey)) {
      sink.note(file.path, `duplicate header for ${key} ${evr(info)}; first kept`);
      continue;
    }
    unique.set(versionedKey, info);
  }
  const current = new Map([...unique].map(([key, info]) => [key, evr(info)]));
  const layers = attributeLayers(file, current, (content) => {
    const older = readInfos(file, content, false);
    return older ? new Map(older.map((info) => [keyOf(info), evr(info)])) : undefined;
  });
  const resolve = dependencyResolver([...unique.values()]);
  return [...unique].map(([key, info]) => toPackage(info, file.path, layers.get(key), resolve, os));
}

/** Maps REQUIRENAME entries to package names through what each package provides (capabilities and files). */
function dependencyResolver(infos: readonly RpmPackageInfo[]): (requires: string[]) => string[] {
  const providers = new Map<string, string>();
  for (const info of infos) {
    for (const capability of info.provides) if (!providers.has(capability)) providers.set(capability, info.name);
    for (const path of info.files) if (!providers.has(path)) providers.set(path, info.name);
  }
  for (const info of infos) providers.set(info.name, info.name);
  return (requires) => {
    const names = new Set<string>();
    for (const req of requires) {
      if (req.startsWith('rpmlib(')) continue;
      const provider = providers.get(req);
      if (provider) names.add(provider);
    }
    return [...names].sort();
  };
}

function toPackage(
  info: RpmPackageInfo,
  dbPath: string,
  layer: string | undefined,
  resolve: (requires: string[]) => string[],
  os: OsInfo | undefined,
): PackageFound {
  const version = evr(info);
  const pkg: PackageFound = {
    name: info.name,
    version,
    type: 'rpm',
    purl: buildPurl({
      type: 'rpm',
      namespace: rpmNamespace(os),
      name: info.name,
      version: `${info.version}-${info.release}`,
      qualifiers: {
        arch: info.arch,
        epoch: info.epoch !== undefined ? String(info.epoch) : undefined,
        distro: distroQualifier(os),
      },
    }),
    licenses: info.license ? [info.license] : [],
    locations: [layer ? { path: dbPath, layer } : { path: dbPath }],
    foundBy: 'rpm',
  };
  const source = info.sourceRpm ? parseSourceRpm(info.sourceRpm) : undefined;
  if (source) pkg.source = source;
  if (info.arch) pkg.arch = info.arch;
  const depends = resolve(info.requires).filter((name) => name !== info.name);
  if (depends.length > 0) pkg.dependsOn = depends;
  if (info.files.length > 0) pkg.ownedFiles = info.files;
  const metadata: Record<string, string> = {};
  if (info.modularityLabel) metadata['rpm.modularitylabel'] = info.modularityLabel;
  if (info.vendor) metadata['rpm.vendor'] = info.vendor;
  if (Object.keys(metadata).length > 0) pkg.metadata = metadata;
  return pkg;
}
