import { DatabaseError } from '../catalog/os/rpm/blobs.js';
import { isRpmDatabase, isRpmWal, preferredPaths, readerFor } from '../catalog/os/rpm/databases.js';
import { HeaderError, RpmHeader, TAG } from '../catalog/os/rpm/header.js';
import type { WantedFile, WantedFiles } from '../image/file.js';

/** dpkg's per-package checksum lists (and distroless images' copies of them). */
const DPKG_MD5SUMS = /^\/var\/lib\/dpkg\/(?:info|status\.d)\/[^/]+\.md5sums$/;
const APK_DBS = ['/lib/apk/db/installed', '/usr/lib/apk/db/installed'];

/** Files the secret scanner needs from the walk besides the ones it scans: the package databases' checksums. */
export function wantsVendorChecksums(path: string): boolean {
  return DPKG_MD5SUMS.test(path) || APK_DBS.includes(path) || isRpmDatabase(path) || isRpmWal(path);
}

/** What the OS package databases say each owned file's content is: hex digests by absolute path. */
export interface VendorChecksums {
  md5: ReadonlyMap<string, string>;
  sha1: ReadonlyMap<string, string>;
  sha256: ReadonlyMap<string, string>;
}

/**
 * Reads dpkg `md5sums` (`<md5>  <path without leading slash>`), apk's installed database (`F:` directory, `R:`
 * file, `Z:Q1<base64 sha1>`) and the rpm database's file digests (`FILEDIGESTS` in the algorithm
 * `FILEDIGESTALGO` names: md5 by default, sha256 on current distributions).
 */
export function vendorChecksums(files: WantedFiles): VendorChecksums {
  const md5 = new Map<string, string>();
  const sha1 = new Map<string, string>();
  const sha256 = new Map<string, string>();
  const rpm = preferredPaths().find((p) => (files.get(p)?.content.length ?? 0) > 0);
  if (rpm) rpmDigests(files.get(rpm) as WantedFile, files.get(`${rpm}-wal`)?.content, { md5, sha1, sha256 });
  for (const [path, file] of files) {
    if (!DPKG_MD5SUMS.test(path)) continue;
    for (const line of file.content.toString('utf8').split('\n')) {
      const m = /^([0-9a-f]{32}) [ *]?(.+)$/.exec(line);
      if (m) md5.set(`/${(m[2] as string).replace(/^\.?\//, '')}`, m[1] as string);
    }
  }
  for (const db of APK_DBS) {
    const file = files.get(db);
    if (!file) continue;
    let dir = '';
    let name: string | undefined;
    for (const line of file.content.toString('utf8').split('\n')) {
      if (line === '') {
        dir = '';
        name = undefined;
      } else if (line.startsWith('F:')) dir = line.slice(2);
      else if (line.startsWith('R:')) name = line.slice(2);
      else if (line.startsWith('Z:Q1') && name !== undefined) {
        const digest = Buffer.from(line.slice(4), 'base64').toString('hex');
        sha1.set(`/${dir ? `${dir}/` : ''}${name}`, digest);
      }
    }
    break;
  }
  return { md5, sha1, sha256 };
}

/** rpm's `FILEDIGESTS` (1035) and `FILEDIGESTALGO` (5011; PGP hash algorithm numbers: 1 md5, 2 sha1, 8 sha256). */
const FILEDIGESTS = 1035;
const FILEDIGESTALGO = 5011;
const RPM_ALGOS: Record<number, keyof VendorChecksums> = { 1: 'md5', 2: 'sha1', 8: 'sha256' };

/** The rpm database's file digests; a database that does not read gives none (its files are then scanned). */
function rpmDigests(
  file: WantedFile,
  wal: Buffer | undefined,
  into: Record<keyof VendorChecksums, Map<string, string>>,
) {
  const read = readerFor(file.path);
  if (!read) return;
  let blobs: Buffer[];
  try {
    blobs = read(file.content, wal).blobs;
  } catch (err) {
    if (err instanceof DatabaseError) return;
    throw err;
  }
  for (const blob of blobs) {
    try {
      const h = new RpmHeader(blob);
      const algo = RPM_ALGOS[h.int32(FILEDIGESTALGO) ?? 1];
      if (!algo) continue;
      const digests = h.strings(FILEDIGESTS);
      const basenames = h.strings(TAG.BASENAMES);
      const dirnames = h.strings(TAG.DIRNAMES);
      const indexes = h.int32s(TAG.DIRINDEXES);
      for (const [i, base] of basenames.entries()) {
        const digest = digests[i];
        const dir = dirnames[indexes[i] ?? -1];
        if (digest && dir !== undefined) into[algo].set(`${dir}${base}`, digest.toLowerCase());
      }
    } catch (err) {
      if (!(err instanceof HeaderError)) throw err;
    }
  }
}

/** True when the package database records exactly this content for this path: the file is as the package shipped it. */
export function isVendorContent(
  sums: VendorChecksums,
  path: string,
  digests: { md5?: string | undefined; sha1?: string | undefined; sha256?: string | undefined },
): boolean {
  const candidates = [path, ...mergedUsrSpellings(path)];
  return candidates.some(
    (p) =>
      (digests.md5 !== undefined && sums.md5.get(p) === digests.md5) ||
      (digests.sha1 !== undefined && sums.sha1.get(p) === digests.sha1) ||
      (digests.sha256 !== undefined && sums.sha256.get(p) === digests.sha256),
  );
}

/** Merged-/usr systems: a package may list `/bin/x` for the file found at `/usr/bin/x`, and the reverse. */
function mergedUsrSpellings(path: string): string[] {
  const m = /^\/usr(\/(?:bin|sbin|lib|lib32|lib64|libx32)\/.*)$/.exec(path);
  if (m) return [m[1] as string];
  if (/^\/(?:bin|sbin|lib|lib32|lib64|libx32)\//.test(path)) return [`/usr${path}`];
  return [];
}
