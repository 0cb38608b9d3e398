import type { Cataloger, CatalogResult } from '../catalog/cataloger.js';
import type { FileMeta, WantedFiles } from '../image/file.js';
import type { NotedFile } from '../model/misconfiguration.js';

/** Where executables are looked for by name (merged-/usr images link /bin to /usr/bin: both are listed). */
const BIN_DIRS = new Set(['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']);

/**
 * Shells by file name. Links are not followed (that would read their targets again): `/bin/sh` is a link to dash or
 * busybox in most images, and the linked file is what is found.
 */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'ksh93', 'mksh', 'csh', 'tcsh', 'fish', 'busybox']);

/**
 * Package managers that install software at run time. The language ones count too (pip, npm): they fetch and run
 * code as well. Build tools that only resolve (maven, cargo) do not. dnf is often a link to `dnf-3`, npm a link to
 * `npm-cli.js`: the linked files are listed.
 */
const PACKAGE_MANAGERS = new Set([
  'apt',
  'apt-get',
  'dpkg',
  'apk',
  'rpm',
  'dnf',
  'dnf-3',
  'dnf4',
  'dnf5',
  'yum',
  'microdnf',
  'tdnf',
  'zypper',
  'pip',
  'npm',
]);
const PIP_VERSIONED = /^pip\d+(\.\d+)?$/;
const NPM_CLI = /\/node_modules\/npm\/bin\/npm-cli\.js$/;

const TMP_DIRS = ['/tmp/', '/var/tmp/', '/dev/shm/'];

/** Package caches (IMG-010): index files and downloaded packages a cleanup step should have removed. */
function isCache(path: string): boolean {
  if (path.startsWith('/var/cache/apt/archives/')) return path.endsWith('.deb');
  if (path.startsWith('/var/lib/apt/lists/')) return !path.endsWith('/lock') && !path.includes('/partial/');
  return (
    path.startsWith('/var/cache/apk/') ||
    path.startsWith('/var/cache/dnf/') ||
    path.startsWith('/var/cache/yum/') ||
    path.startsWith('/root/.cache/')
  );
}

export type FileCheckKind = 'shell' | 'package-manager' | 'setuid' | 'world-writable' | 'cache';

/** The file checks a regular file concerns (empty for most files). */
export function fileCheckKinds(path: string, mode: number): FileCheckKind[] {
  const kinds: FileCheckKind[] = [];
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (BIN_DIRS.has(path.slice(0, slash))) {
    if (SHELLS.has(base)) kinds.push('shell');
    if (PACKAGE_MANAGERS.has(base) || PIP_VERSIONED.test(base)) kinds.push('package-manager');
  } else if (NPM_CLI.test(path)) {
    kinds.push('package-manager');
  }
  if (mode & 0o6000) kinds.push('setuid');
  if (mode & 0o002 && !TMP_DIRS.some((d) => path.startsWith(d))) kinds.push('world-writable');
  if (isCache(path)) kinds.push('cache');
  return kinds;
}

/**
 * The image checks' part of the one walk: a metadata-only cataloger that notes the regular files the file checks
 * concern, by path, mode and layer. It keeps no bytes (`metaOnly`), so the walk reads nothing more for it.
 */
export const imageCheckFilesCataloger: Cataloger = {
  id: 'image-checks',
  version: 1,
  metaOnly: true,
  wants(path: string, meta: FileMeta): boolean {
    if (meta.type !== 'file') return false;
    // The mode tests first: they are what most paths fail.
    if (meta.mode & 0o6002) return true;
    const slash = path.lastIndexOf('/');
    if (BIN_DIRS.has(path.slice(0, slash))) {
      const base = path.slice(slash + 1);
      return SHELLS.has(base) || PACKAGE_MANAGERS.has(base) || PIP_VERSIONED.test(base);
    }
    return NPM_CLI.test(path) || isCache(path);
  },
  async catalog(files: WantedFiles): Promise<CatalogResult> {
    const notedFiles: NotedFile[] = [];
    for (const file of files.values()) {
      const noted: NotedFile = { path: file.path, mode: file.meta.mode };
      if (file.layer !== undefined) noted.layer = file.layer;
      notedFiles.push(noted);
    }
    return { packages: [], warnings: [], notedFiles };
  },
};
