import type { WantedFile, WantedFiles } from '../../../image/file.js';
import type { OsInfo } from '../../../model/os.js';
import type { PackageFound } from '../../../model/package.js';
import { buildPurl } from '../../../model/purl.js';
import type { Cataloger } from '../../cataloger.js';
import { debNamespace, distroQualifier } from '../distro.js';
import { attributeLayers } from '../layer-attribution.js';
import { WarningSink } from '../warnings.js';
import { condenseCopyright, isCopyrightPath, licensesFromCopyright } from './copyright.js';
import { type DpkgEntry, isPresent, toEntry } from './entry.js';
import { flatString, Interner } from './interner.js';
import { INFO_DIR, isListPath, parseList, parseMd5sums } from './owned-files.js';
import { readStanzas, type StanzaEvent } from './status-file.js';
import { isValidPackageName, isValidStatus } from './validity.js';

export const STATUS_PATH = '/var/lib/dpkg/status';
export const STATUS_D = '/var/lib/dpkg/status.d/';

/** The fields Lading reads; the rest of a paragraph (descriptions, conffiles) is never decoded. */
const ENTRY_FIELDS = new Set(['package', 'status', 'version', 'architecture', 'source', 'depends', 'pre-depends']);
const VERSION_FIELDS = new Set(['package', 'status', 'version', 'architecture']);

function isStatusD(path: string): boolean {
  return path.startsWith(STATUS_D) && !path.slice(STATUS_D.length).includes('/') && path.length > STATUS_D.length;
}

function isStatusDEntry(path: string): boolean {
  return isStatusD(path) && !path.endsWith('.md5sums');
}

/** dpkg: `/var/lib/dpkg/status` and distroless `status.d/*`, with owned files and copyright licenses. */
export const dpkgCataloger: Cataloger = {
  id: 'dpkg',
  version: 1,
  wants: (path) => path === STATUS_PATH || isStatusD(path) || isListPath(path) || isCopyrightPath(path),
  wantsHistory: (path) => path === STATUS_PATH || isStatusDEntry(path),
  condense: (path, content) => (isCopyrightPath(path) ? condenseCopyright(content) : content),
  async catalog(files, env) {
    const sink = new WarningSink('dpkg');
    const packages: PackageFound[] = [];
    const databases = [...files.values()]
      .filter((f) => f.path === STATUS_PATH || isStatusDEntry(f.path))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    for (const db of databases) {
      let n = 0;
      for (const { entry, layer } of readDatabase(db, sink)) {
        packages.push(toPackage(entry, db.path, layer, files, env.os));
        // One past the cap is enough for the catalog run to keep the first ones and report the file as a gap.
        if (++n > env.limits.maxPackagesPerFile) break;
      }
    }
    return { packages, warnings: sink.list, notes: sink.notes };
  },
};

interface Located {
  entry: DpkgEntry;
  layer: string | undefined;
}

function keyOf(entry: { name: string; arch?: string }): string {
  return `${entry.name}:${entry.arch ?? ''}`;
}

/**
 * Layers come from the database's history (the oldest layer of the unbroken run holding the current version), not
 * from the layer of `info/<pkg>.list`: dpkg also rewrites a package's list when another package takes over some of
 * its files (Replaces), so the list's layer can be a later step that never changed the package's version; the
 * only case the list gets right that history does not, a same-version `--reinstall`, changes no finding.
 */
function readDatabase(file: WantedFile, sink: WarningSink): Located[] {
  const distroless = file.path !== STATUS_PATH;
  const entries = new Map<string, DpkgEntry>();
  const interner = new Interner();
  const stanzas = readStanzas(
    file.content,
    (line, bytes) =>
      sink.add(file.path, `line ${line}: paragraph of ${bytes} bytes skipped (larger than any dpkg record)`),
    ENTRY_FIELDS,
  );
  for (const event of stanzas) {
    const { stanza, line } = event;
    const problem = stanzaProblem(event, distroless);
    if (problem === 'absent') continue;
    if (problem) {
      sink.add(file.path, `line ${line}: ${problem}; skipped`);
      continue;
    }
    const entry = toEntry(stanza, interner, (note) => sink.note(file.path, `line ${line}: ${note}`));
    if ('error' in entry) {
      sink.add(file.path, `line ${line}: ${entry.error}; skipped`);
      continue;
    }
    if (event.cutField !== undefined) {
      sink.add(
        file.path,
        `line ${line}: file ends without a final newline (truncated?) inside ${entry.name}'s paragraph`,
      );
    }
    const key = keyOf(entry);
    if (entries.has(key)) {
      sink.note(
        file.path,
        `line ${line}: duplicate paragraph for ${entry.name}${entry.arch ? `:${entry.arch}` : ''}; first kept`,
      );
      continue;
    }
    entries.set(key, entry);
  }
  // A database no lower layer had: everything in it came with its own layer (spares two maps per package).
  if (!file.history?.length) return [...entries.values()].map((entry) => ({ entry, layer: file.layer }));
  const current = new Map([...entries].map(([key, e]) => [key, e.version]));
  const layers = attributeLayers(file, current, (content) => versionsOf(content, distroless));
  return [...entries].map(([key, entry]) => ({ entry, layer: layers.get(key) }));
}

/** Fields whose value, cut short by a truncated file, would make a wrong package rather than a missing one. */
const KEY_FIELDS = new Set(['package', 'status', 'version', 'architecture', 'source']);

/**
 * Why a paragraph cannot be reported, `absent` when it rightly is not (a removed package), or undefined. Every
 * paragraph that is not a clean record of a present or absent package gets a reason: none is dropped silently.
 */
function stanzaProblem(event: StanzaEvent, distroless: boolean): string | 'absent' | undefined {
  const { stanza, duplicates, cutField } = event;
  const label = `paragraph for ${labelOf(stanza.get('package'))}`;
  // dpkg refuses a paragraph that repeats a field; which value is right cannot be told.
  if (duplicates.length > 0) return `${label} repeats field ${duplicates.map(fieldName).join(', ')}`;
  if (cutField !== undefined && KEY_FIELDS.has(cutField)) {
    return `${label} is incomplete: file ends inside its ${fieldName(cutField)} field (truncated?)`;
  }
  if (!stanza.get('package')) return 'paragraph without a Package field';
  // Distroless entries carry no Status: being there is being installed.
  if (distroless) return undefined;
  const status = stanza.get('status');
  if (status === undefined) {
    const missing = ['Status', ...(stanza.get('version') ? [] : ['Version'])];
    return `${label} is incomplete: missing ${missing.join('/')}`;
  }
  if (!isValidStatus(status)) return `${label} has an invalid Status ${JSON.stringify(status.slice(0, 64))}`;
  return isPresent(status) ? undefined : 'absent';
}

function labelOf(name: string | undefined): string {
  if (name === undefined) return '?';
  return name.length > 64 || !isValidPackageName(name) ? JSON.stringify(name.slice(0, 64)) : name;
}

function fieldName(lower: string): string {
  return lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** The cheap read of an older database version for layer attribution. */
function versionsOf(content: Buffer, distroless: boolean): Map<string, string> {
  const versions = new Map<string, string>();
  for (const { stanza } of readStanzas(content, () => {}, VERSION_FIELDS)) {
    if (!distroless && !isPresent(stanza.get('status'))) continue;
    const name = stanza.get('package');
    const version = stanza.get('version');
    if (!name || !version) continue;
    const arch = stanza.get('architecture');
    const key = keyOf(arch ? { name, arch } : { name });
    if (!versions.has(key)) versions.set(key, version);
  }
  return versions;
}

function toPackage(
  entry: DpkgEntry,
  dbPath: string,
  layer: string | undefined,
  files: WantedFiles,
  os: OsInfo | undefined,
): PackageFound {
  const pkg: PackageFound = {
    name: entry.name,
    version: entry.version,
    type: 'deb',
    purl: flatString(
      buildPurl({
        type: 'deb',
        namespace: debNamespace(os),
        name: entry.name,
        version: entry.version,
        qualifiers: { arch: entry.arch, distro: distroQualifier(os) },
      }),
    ),
    licenses: licenses(entry.name, files),
    locations: [layer ? { path: dbPath, layer } : { path: dbPath }],
    foundBy: 'dpkg',
  };
  if (entry.sourceName) {
    pkg.source = entry.sourceVersion
      ? { name: entry.sourceName, version: entry.sourceVersion }
      : { name: entry.sourceName };
  }
  if (entry.arch) pkg.arch = entry.arch;
  if (entry.depends.length > 0) pkg.dependsOn = entry.depends;
  const owned = ownedFiles(entry, dbPath, files);
  if (owned.length > 0) pkg.ownedFiles = owned;
  return pkg;
}

function ownedFiles(entry: DpkgEntry, dbPath: string, files: WantedFiles): string[] {
  const list =
    (entry.arch ? files.get(`${INFO_DIR}${entry.name}:${entry.arch}.list`) : undefined) ??
    files.get(`${INFO_DIR}${entry.name}.list`);
  if (list) return parseList(list.content);
  if (dbPath !== STATUS_PATH) {
    const md5sums = files.get(`${STATUS_D}${entry.name}.md5sums`) ?? files.get(`${dbPath}.md5sums`);
    if (md5sums) return parseMd5sums(md5sums.content);
  }
  return [];
}

function licenses(name: string, files: WantedFiles): string[] {
  const copyright = files.get(`/usr/share/doc/${name}/copyright`);
  if (!copyright) return [];
  const text =
    copyright.condensedBy === 'dpkg'
      ? copyright.content.toString('utf8')
      : condenseCopyright(copyright.content).toString('utf8');
  return licensesFromCopyright(text);
}
