import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

/** Kernel and runtime filesystems: their files describe the running system, not what is installed on it. */
const PSEUDO_FS_TYPES = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'cgroup',
  'cgroup2',
  'securityfs',
  'debugfs',
  'tracefs',
  'pstore',
  'bpf',
  'mqueue',
  'hugetlbfs',
  'configfs',
  'fusectl',
  'binfmt_misc',
  'autofs',
  'nsfs',
  'efivarfs',
  'rpc_pipefs',
  'nfsd',
  'selinuxfs',
]);

/** Skipped under the host root whatever is mounted there (runtime state, not installed software). */
const HOST_ROOT_SKIPS = ['/proc', '/sys', '/dev', '/run'];

/** `/proc/self/mountinfo` escapes space, tab, newline and backslash in paths as octal. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * Paths inside `root` (as walk paths: `/proc`) that the rootfs walk must not enter: pseudo-filesystem mount points
 * from `mountinfo`, plus /proc, /sys, /dev and /run when `root` is the host root (`dir:/`).
 */
export function pseudoFsPaths(root: string, mountinfo: string): Set<string> {
  const base = resolve(root);
  const skip = new Set<string>(base === sep ? HOST_ROOT_SKIPS : []);
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const mountPoint = fields[4];
    const fsType = fields[dash + 1];
    if (dash < 0 || mountPoint === undefined || fsType === undefined || !PSEUDO_FS_TYPES.has(fsType)) continue;
    const abs = unescapeMountPath(mountPoint);
    if (base === sep) skip.add(abs);
    else if (abs.startsWith(`${base}${sep}`)) skip.add(abs.slice(base.length));
  }
  return skip;
}

/** The pseudo-filesystem paths for this machine (none where there is no /proc, e.g. macOS). */
export async function pseudoFsPathsHere(root: string): Promise<Set<string>> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return pseudoFsPaths(root, mountinfo);
}
