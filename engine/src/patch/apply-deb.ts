// The Debian/Ubuntu patch layer: what dpkg would leave after unpacking and configuring packages that have no
// maintainer scripts. New files (through the image's symlinked directories), whiteouts for files only the old
// version owned, modified conffiles kept with the new one beside them as `.dpkg-dist`, and the database updated.
import { createHash } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';
import { field, formatStanza, parseStanzas, type Stanza } from './control.js';
import { type DebPackage, readDeb } from './deb.js';
import { INFO, type InstalledDeb, installedStanza, STATUS } from './dpkg-db.js';
import type { RootView } from './rootfs.js';
import type { TarItem } from './tar.js';
import type { PatchedPackage, PatchPlanEntry } from './types.js';

export interface LayerBuild {
  items: TarItem[];
  patched: PatchedPackage[];
  keptConffiles: string[];
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

/** A file the layer writes for the package database. */
function dbFile(path: string, data: Buffer, mtime: number, mode = 0o644): TarItem {
  return {
    path,
    type: 'file',
    mode,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtime,
    linkname: '',
    data,
    xattrs: {},
  };
}

function whiteout(path: string, mtime: number): TarItem {
  const slash = path.lastIndexOf('/');
  const name = slash < 0 ? `.wh.${path}` : `${path.slice(0, slash)}/.wh.${path.slice(slash + 1)}`;
  return dbFile(name, Buffer.alloc(0), mtime, 0o600);
}

/** Paths every other installed package's `.list` names (a file two packages share is never whited out). */
function otherOwners(view: RootView, installed: InstalledDeb[], replaced: Set<string>): Set<string> {
  const owned = new Set<string>();
  for (const deb of installed) {
    if (replaced.has(deb.name)) continue;
    for (const line of (view.content(`${INFO}/${deb.infoName}.list`)?.toString('utf8') ?? '').split('\n')) {
      if (line !== '') owned.add(line);
    }
  }
  return owned;
}

/** The files the old version owned, as dpkg recorded them (`/usr/lib/x`): its `.list`, or status.d's md5sums. */
function oldPaths(view: RootView, deb: InstalledDeb): string[] {
  if (deb.location.kind === 'status.d') {
    const sums = view.content(`${deb.location.file}.md5sums`)?.toString('utf8') ?? '';
    return sums
      .split('\n')
      .map((l) => l.replace(/^[0-9a-f]{32}\s+/, '').trim())
      .filter((p) => p !== '')
      .map((p) => `/${p.replace(/^\/+/, '')}`);
  }
  return (view.content(`${INFO}/${deb.infoName}.list`)?.toString('utf8') ?? '').split('\n').filter((l) => l !== '');
}

export async function buildDebLayer(
  view: RootView,
  entries: PatchPlanEntry[],
  downloads: Map<string, { bytes: Buffer }>,
  installed: InstalledDeb[],
  options: { maxPackageBytes: number; mtime: number },
): Promise<LayerBuild> {
  const { mtime } = options;
  const byName = new Map(installed.map((d) => [d.name, d]));
  const items = new Map<string, TarItem>();
  const emit = (item: TarItem) => {
    items.delete(item.path);
    items.set(item.path, item);
  };
  const patched: PatchedPackage[] = [];
  const keptConffiles: string[] = [];
  const newStanzas = new Map<string, Stanza>();
  const applied = entries.filter((e) => e.verdict === 'apply');
  const replaced = new Set(applied.flatMap((e) => e.binaries.map((b) => b.name)));
  const owned = otherOwners(view, installed, replaced);

  for (const entry of applied) {
    for (const binary of entry.binaries) {
      const old = byName.get(binary.name);
      const got = binary.url ? downloads.get(binary.url) : undefined;
      if (!old || !got || !binary.url || !binary.sha256 || !binary.candidate) {
        throw new LadingError('BAD_INPUT', `${binary.name}: the plan has no verified package to apply`);
      }
      const deb: DebPackage = await readDeb(got.bytes, binary.url, options.maxPackageBytes, true);
      const conffiles = new Set(deb.conffiles);
      const newConffiles: [string, string][] = [];
      const listed: string[] = ['/.'];
      const newPaths = new Set<string>();
      for (const item of deb.data) {
        if (item.path === '') continue;
        const recorded = `/${item.path}`;
        listed.push(recorded);
        newPaths.add(recorded);
        const target = view.resolveParent(item.path);
        const existing = view.get(target);
        if (item.type === 'directory') {
          // dpkg leaves existing directories (and the symlinks usrmerge put in their place) as they are.
          if (!existing && !items.has(target)) emit({ ...item, path: target });
          continue;
        }
        if (existing?.type === 'directory') {
          throw new LadingError('BAD_INPUT', `${binary.url}: ${recorded} would replace a directory of the image`);
        }
        const placed: TarItem = { ...item, path: target };
        if (item.type === 'hardlink') placed.linkname = view.resolveParent(item.linkname);
        if (conffiles.has(recorded) && item.type === 'file') {
          newConffiles.push([recorded, md5(item.data)]);
          const current = existing ? view.content(target) : undefined;
          const recordedMd5 = old.conffiles.get(recorded)?.split(' ')[0];
          // The admin changed it (it differs from what the old version shipped): keep theirs, as dpkg --force-confold.
          if (current && recordedMd5 && md5(current) !== recordedMd5 && md5(current) !== md5(item.data)) {
            emit({ ...placed, path: `${target}.dpkg-dist` });
            keptConffiles.push(recorded);
            continue;
          }
        }
        emit(placed);
      }
      for (const path of oldPaths(view, old)) {
        if (path === '/.' || newPaths.has(path) || owned.has(path)) continue;
        // A conffile the new version no longer ships stays, as dpkg leaves it: recorded as obsolete.
        const oldConffile = old.conffiles.get(path);
        if (oldConffile !== undefined) {
          newConffiles.push([path, oldConffile.endsWith(' obsolete') ? oldConffile : `${oldConffile} obsolete`]);
          continue;
        }
        const target = view.resolveParent(path.slice(1));
        const node = view.get(target);
        // Through usrmerge links an old path can be the very file this layer writes (`/lib/x` → `usr/lib/x`).
        if (!node || view.isDirectory(target) || items.has(target)) continue;
        emit(whiteout(target, mtime));
      }
      // The database, as dpkg would leave it.
      const stanza = installedStanza(
        deb.control,
        old.location.kind === 'status' || !!field(old.stanza, 'Status'),
        newConffiles,
      );
      if (old.location.kind === 'status') {
        newStanzas.set(old.name, stanza);
        const infoName =
          (field(deb.control, 'Multi-Arch') ?? '') === 'same' ? `${binary.name}:${binary.architecture}` : binary.name;
        const written = new Set<string>();
        emit(dbFile(`${INFO}/${infoName}.list`, Buffer.from(`${listed.join('\n')}\n`), mtime));
        written.add(`${INFO}/${infoName}.list`);
        for (const [member, data] of deb.infoFiles) {
          emit(dbFile(`${INFO}/${infoName}.${member}`, data, mtime));
          written.add(`${INFO}/${infoName}.${member}`);
        }
        for (const path of view.children(INFO)) {
          if (path.startsWith(`${INFO}/${old.infoName}.`) && !written.has(path)) emit(whiteout(path, mtime));
        }
      } else {
        const file = old.location.file;
        emit(dbFile(file, Buffer.from(formatStanza(stanza)), mtime));
        const sums = deb.infoFiles.get('md5sums');
        if (sums) emit(dbFile(`${file}.md5sums`, sums, mtime));
        else if (view.get(`${file}.md5sums`)) emit(whiteout(`${file}.md5sums`, mtime));
      }
      patched.push({
        name: binary.name,
        architecture: binary.architecture,
        from: old.version,
        to: binary.candidate,
        url: binary.url,
        sha256: binary.sha256,
      });
    }
  }
  if (newStanzas.size > 0) {
    const status = view.content(STATUS);
    if (!status) throw new LadingError('BAD_INPUT', `/${STATUS} is missing`);
    const stanzas = parseStanzas(status.toString('utf8')).map((s) => {
      const name = field(s, 'Package');
      return name && newStanzas.has(name) ? (newStanzas.get(name) as Stanza) : s;
    });
    emit(dbFile(STATUS, Buffer.from(stanzas.map(formatStanza).join('\n')), mtime, view.get(STATUS)?.mode ?? 0o644));
  }
  return { items: [...items.values()], patched, keptConffiles };
}
