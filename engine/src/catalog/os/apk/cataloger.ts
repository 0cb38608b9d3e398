import type { WantedFile } from '../../../image/file.js';
import type { OsInfo } from '../../../model/os.js';
import type { PackageFound } from '../../../model/package.js';
import { buildPurl } from '../../../model/purl.js';
import { isValidApk } from '../../../versions/apk.js';
import type { Cataloger } from '../../cataloger.js';
import { apkNamespace, distroQualifier } from '../distro.js';
import { attributeLayers } from '../layer-attribution.js';
import { WarningSink } from '../warnings.js';
import { type ApkRecord, parseInstalled, tokenName } from './installed-file.js';

export const APK_DB_PATHS = ['/lib/apk/db/installed', '/usr/lib/apk/db/installed'] as const;
const WANTED = new Set<string>(APK_DB_PATHS);

type Complete = ApkRecord & { name: string; version: string };

/** apk: Alpine, Wolfi and Chainguard `installed` databases. */
export const apkCataloger: Cataloger = {
  id: 'apk',
  version: 1,
  wants: (path) => WANTED.has(path),
  wantsHistory: (path) => WANTED.has(path),
  async catalog(files, env) {
    const sink = new WarningSink('apk');
    const packages: PackageFound[] = [];
    // Newer apk-tools keep the database under /usr; where both exist, /lib/apk is usually a link to it.
    for (const path of APK_DB_PATHS) {
      const file = files.get(path);
      if (!file || file.content.length === 0) continue;
      for (const pkg of catalogDatabase(file, env.os, sink, env.limits.maxPackagesPerFile)) packages.push(pkg);
      break;
    }
    return { packages, warnings: sink.list, notes: sink.notes };
  },
};

function catalogDatabase(
  file: WantedFile,
  os: OsInfo | undefined,
  sink: WarningSink,
  maxPackages: number,
): PackageFound[] {
  const records: Complete[] = [];
  const seen = new Set<string>();
  for (const record of parseInstalled(file.content.toString('utf8'))) {
    const problem = recordProblem(record);
    if (problem) {
      sink.add(file.path, `line ${record.line}: ${problem}; skipped`);
      continue;
    }
    if (!record.name || !record.version) {
      sink.add(
        file.path,
        `line ${record.line}: package ${record.name ?? '?'} has no ${record.name ? 'V:' : 'P:'} line; skipped`,
      );
      continue;
    }
    if (seen.has(record.name)) {
      sink.note(file.path, `line ${record.line}: duplicate record for ${record.name}; first kept`);
      continue;
    }
    seen.add(record.name);
    records.push(record as Complete);
    // One past the cap is enough for the catalog run to keep the first ones and report the file as a gap.
    if (records.length > maxPackages) break;
  }
  const providers = providerIndex(records);
  const current = new Map(records.map((r) => [r.name, r.version]));
  const layers = attributeLayers(file, current, versionsOf);
  return records.map((record) => toPackage(record, file.path, layers.get(record.name), providers, os));
}

/** apk-tools package names: no blanks, slashes or controls; Lading also keeps them to printable ASCII. */
const APK_NAME = /^[A-Za-z0-9_][A-Za-z0-9+._-]*$/;

/** Why a record cannot be reported although it names a package, or undefined. */
function recordProblem(record: ApkRecord): string | undefined {
  const label = `record for ${record.name && APK_NAME.test(record.name) ? record.name : JSON.stringify(record.name ?? '?')}`;
  if (record.duplicates) return `${label} repeats ${record.duplicates.map((k) => `${k}:`).join(', ')}`;
  // A cut F:/R:/Z: line changes nothing reported; a cut P:/V:/A:/o: line would report a wrong package.
  if (record.cutKey !== undefined && 'PVAo'.includes(record.cutKey)) {
    return `${label} is incomplete: file ends inside its ${record.cutKey}: line (truncated?)`;
  }
  if (record.name !== undefined && !APK_NAME.test(record.name)) return `invalid package name ${label.slice(11)}`;
  if (record.version !== undefined && !isValidApk(record.version)) {
    return `${label} has an invalid version ${JSON.stringify(record.version)}`;
  }
  if (record.arch !== undefined && !/^[a-z0-9_]+$/.test(record.arch)) {
    return `${label} has an invalid architecture ${JSON.stringify(record.arch)}`;
  }
  return undefined;
}

function versionsOf(content: Buffer): Map<string, string> {
  const versions = new Map<string, string>();
  for (const r of parseInstalled(content.toString('utf8'))) {
    if (r.name && r.version && !versions.has(r.name)) versions.set(r.name, r.version);
  }
  return versions;
}

/** Provided name (package names and `p:` entries such as `so:libc.musl-x86_64.so.1`) → providing package. */
function providerIndex(records: readonly Complete[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const r of records) {
    for (const token of r.provides) {
      const name = tokenName(token);
      if (!index.has(name)) index.set(name, r.name);
    }
  }
  for (const r of records) index.set(r.name, r.name);
  return index;
}

function toPackage(
  record: Complete,
  dbPath: string,
  layer: string | undefined,
  providers: ReadonlyMap<string, string>,
  os: OsInfo | undefined,
): PackageFound {
  const pkg: PackageFound = {
    name: record.name,
    version: record.version,
    type: 'apk',
    purl: buildPurl({
      type: 'apk',
      namespace: apkNamespace(os),
      name: record.name,
      version: record.version,
      qualifiers: { arch: record.arch, distro: distroQualifier(os) },
    }),
    licenses: record.license ? [record.license] : [],
    locations: [layer ? { path: dbPath, layer } : { path: dbPath }],
    foundBy: 'apk',
  };
  if (record.origin) pkg.source = { name: record.origin };
  if (record.arch) pkg.arch = record.arch;
  const depends = new Set<string>();
  for (const token of record.depends) {
    if (token.startsWith('!')) continue;
    const provider = providers.get(tokenName(token));
    if (provider && provider !== record.name) depends.add(provider);
  }
  if (depends.size > 0) pkg.dependsOn = [...depends].sort();
  if (record.files.length > 0) pkg.ownedFiles = record.files;
  return pkg;
}
