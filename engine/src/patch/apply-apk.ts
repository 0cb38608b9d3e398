// The Alpine patch layer: what `apk upgrade` leaves for packages without scripts: new files (a changed file under
// /etc kept, the new one beside it as `.apk-new`, as apk does), whiteouts for files only the old version had, and
// the package's block in lib/apk/db/installed rewritten (index fields, then F:/M:/R:/a:/Z: per directory).
import { createHash } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';
import { type ApkBlock, type ApkCandidate, apkField, formatApkBlock, parseApkBlocks, readApk } from './apk.js';
import type { LayerBuild } from './apply-deb.js';
import { APK_INSTALLED, type InstalledApk } from './plan-apk.js';
import type { RootView } from './rootfs.js';
import type { TarItem } from './tar.js';
import type { PatchedPackage, PatchPlanEntry } from './types.js';

/** Index fields an installed record keeps, in apk's order. */
const RECORD_FIELDS = ['C', 'P', 'V', 'A', 'S', 'I', 'T', 'U', 'L', 'o', 'm', 't', 'c', 'k', 'D', 'p', 'i', 'r', 'q'];

const sha1b64 = (data: Buffer | string) => `Q1${createHash('sha1').update(data).digest('base64')}`;

function whiteout(path: string, mtime: number): TarItem {
  const slash = path.lastIndexOf('/');
  const name = slash < 0 ? `.wh.${path}` : `${path.slice(0, slash)}/.wh.${path.slice(slash + 1)}`;
  return {
    path: name,
    type: 'file',
    mode: 0o600,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtime,
    linkname: '',
    data: Buffer.alloc(0),
    xattrs: {},
  };
}

/** Paths (no leading slash) an installed record owns: its `R:` lines under the `F:` before them. */
function ownedFiles(block: ApkBlock): { path: string; checksum?: string }[] {
  const out: { path: string; checksum?: string }[] = [];
  let dir = '';
  for (const [k, v] of block) {
    if (k === 'F') dir = v;
    else if (k === 'R') out.push({ path: dir ? `${dir}/${v}` : v });
    else if (k === 'Z' && out.length > 0) (out[out.length - 1] as { checksum?: string }).checksum = v;
  }
  return out;
}

/** The installed record apk writes for a package: index fields, then each directory with its files. */
function installedRecord(candidate: ApkCandidate, data: TarItem[]): ApkBlock {
  const block: ApkBlock = [];
  for (const key of RECORD_FIELDS) {
    for (const [k, v] of candidate.block) if (k === key) block.push([k, v]);
  }
  const dirs = new Map<string, TarItem[]>();
  const dirItems = new Map<string, TarItem>();
  for (const item of data) {
    if (item.path === '') continue;
    if (item.type === 'directory') {
      dirItems.set(item.path, item);
      if (!dirs.has(item.path)) dirs.set(item.path, []);
      continue;
    }
    const slash = item.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : item.path.slice(0, slash);
    dirs.set(dir, [...(dirs.get(dir) ?? []), item]);
  }
  for (const [dir, files] of dirs) {
    block.push(['F', dir]);
    const d = dirItems.get(dir);
    if (d && (d.uid !== 0 || d.gid !== 0 || d.mode !== 0o755))
      block.push(['M', `${d.uid}:${d.gid}:${d.mode.toString(8)}`]);
    for (const f of files) {
      block.push(['R', f.path.slice(f.path.lastIndexOf('/') + 1)]);
      if (f.uid !== 0 || f.gid !== 0 || f.mode !== 0o644) block.push(['a', `${f.uid}:${f.gid}:${f.mode.toString(8)}`]);
      if (f.type === 'file') block.push(['Z', sha1b64(f.data)]);
      else if (f.type === 'symlink') block.push(['Z', sha1b64(f.linkname)]);
    }
  }
  return block;
}

export function buildApkLayer(
  view: RootView,
  entries: PatchPlanEntry[],
  downloads: Map<string, { bytes: Buffer; candidate: ApkCandidate }>,
  installed: InstalledApk[],
  options: { maxPackageBytes: number; mtime: number },
): LayerBuild {
  const { mtime } = options;
  const byName = new Map(installed.map((p) => [p.name, p]));
  const items = new Map<string, TarItem>();
  const emit = (item: TarItem) => {
    items.delete(item.path);
    items.set(item.path, item);
  };
  const patched: PatchedPackage[] = [];
  const keptConffiles: string[] = [];
  const records = new Map<string, ApkBlock>();
  const applied = entries.filter((e) => e.verdict === 'apply');
  const replaced = new Set(applied.flatMap((e) => e.binaries.map((b) => b.name)));
  const owned = new Set<string>();
  for (const p of installed) if (!replaced.has(p.name)) for (const f of ownedFiles(p.block)) owned.add(f.path);

  for (const entry of applied) {
    for (const binary of entry.binaries) {
      const old = byName.get(binary.name);
      const got = binary.url ? downloads.get(binary.url) : undefined;
      if (!old || !got || !binary.url || !binary.candidate) {
        throw new LadingError('BAD_INPUT', `${binary.name}: the plan has no verified package to apply`);
      }
      const apk = readApk(got.bytes, got.candidate.checksum, binary.url, options.maxPackageBytes, true);
      const oldFiles = new Map(ownedFiles(old.block).map((f) => [f.path, f.checksum]));
      const newPaths = new Set<string>();
      for (const item of apk.data) {
        if (item.path === '') continue;
        newPaths.add(item.path);
        const target = view.resolveParent(item.path);
        const existing = view.get(target);
        if (item.type === 'directory') {
          if (!existing && !items.has(target)) emit({ ...item, path: target });
          continue;
        }
        const placed: TarItem = { ...item, path: target };
        if (item.type === 'hardlink') placed.linkname = view.resolveParent(item.linkname);
        // apk's protected paths: a file under /etc the image changed stays, the new one is written beside it.
        if (item.type === 'file' && item.path.startsWith('etc/')) {
          const current = view.content(target);
          const recorded = oldFiles.get(item.path);
          if (current && recorded && sha1b64(current) !== recorded && sha1b64(current) !== sha1b64(item.data)) {
            emit({ ...placed, path: `${target}.apk-new` });
            keptConffiles.push(`/${item.path}`);
            continue;
          }
        }
        emit(placed);
      }
      for (const path of oldFiles.keys()) {
        if (newPaths.has(path) || owned.has(path)) continue;
        const target = view.resolveParent(path);
        const node = view.get(target);
        // Through usrmerge links an old path can be the very file this layer writes (`/lib/x` → `usr/lib/x`).
        if (!node || view.isDirectory(target) || items.has(target)) continue;
        emit(whiteout(target, mtime));
      }
      records.set(old.name, installedRecord(got.candidate, apk.data));
      patched.push({
        name: binary.name,
        architecture: binary.architecture,
        from: old.version,
        to: binary.candidate,
        url: binary.url,
        sha256: apk.sha256,
      });
    }
  }
  const db = view.contentFollowing(APK_INSTALLED);
  if (!db) throw new LadingError('BAD_INPUT', `/${APK_INSTALLED} is missing`);
  const blocks = parseApkBlocks(db.toString('utf8')).map((b) => {
    const name = apkField(b, 'P');
    return name && records.has(name) ? (records.get(name) as ApkBlock) : b;
  });
  const text = Buffer.from(`${blocks.map(formatApkBlock).join('\n')}\n`);
  emit({
    path: view.resolveParent(APK_INSTALLED),
    type: 'file',
    mode: view.get(APK_INSTALLED)?.mode ?? 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtime,
    linkname: '',
    data: text,
    xattrs: {},
  });
  return { items: [...items.values()], patched, keptConffiles };
}
