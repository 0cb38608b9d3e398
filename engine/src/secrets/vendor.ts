import type { WantedFiles } from '../image/file.js';

/** dpkg's per-package checksum lists (and distroless images' copies of them). */
const DPKG_MD5SUMS = /^\/var\/lib\/dpkg\/(?:info|status\.d)\/[^/]+\.md5sums$/;
const APK_DBS = ['/lib/apk/db/installed', '/usr/lib/apk/db/installed'];

/** Files the secret scanner needs from the walk besides the ones it scans: the package databases' checksums. */
export function wantsVendorChecksums(path: string): boolean {
  return DPKG_MD5SUMS.test(path) || APK_DBS.includes(path);
}

/** What the OS package databases say each owned file's content is: hex digests by absolute path. */
export interface VendorChecksums {
  md5: ReadonlyMap<string, string>;
  sha1: ReadonlyMap<string, string>;
}

/**
 * Reads dpkg `md5sums` (`<md5>  <path without leading slash>`) and apk's installed database (`F:` directory,
 * `R:` file, `Z:Q1<base64 sha1>`). rpm's file digests are not read yet: files of rpm-based images are scanned as
 * any other file.
 */
export function vendorChecksums(files: WantedFiles): VendorChecksums {
  const md5 = new Map<string, string>();
  const sha1 = new Map<string, string>();
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
  return { md5, sha1 };
}

/** True when the package database records exactly this content for this path: the file is as the package shipped it. */
export function isVendorContent(
  sums: VendorChecksums,
  path: string,
  digests: { md5?: string | undefined; sha1?: string | undefined },
): boolean {
  const candidates = [path, ...mergedUsrSpellings(path)];
  return candidates.some(
    (p) =>
      (digests.md5 !== undefined && sums.md5.get(p) === digests.md5) ||
      (digests.sha1 !== undefined && sums.sha1.get(p) === digests.sha1),
  );
}

/** Merged-/usr systems: a package may list `/bin/x` for the file found at `/usr/bin/x`, and the reverse. */
function mergedUsrSpellings(path: string): string[] {
  const m = /^\/usr(\/(?:bin|sbin|lib|lib32|lib64|libx32)\/.*)$/.exec(path);
  if (m) return [m[1] as string];
  if (/^\/(?:bin|sbin|lib|lib32|lib64|libx32)\//.test(path)) return [`/usr${path}`];
  return [];
}
