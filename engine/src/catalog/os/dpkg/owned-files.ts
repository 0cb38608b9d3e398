export const INFO_DIR = '/var/lib/dpkg/info/';

export function isListPath(path: string): boolean {
  return path.startsWith(INFO_DIR) && path.endsWith('.list') && !path.slice(INFO_DIR.length).includes('/');
}

/** The paths of a dpkg `info/<pkg>.list` (absolute, directories included; dpkg's `/.` root line dropped). */
export function parseList(content: Buffer): string[] {
  const paths: string[] = [];
  for (const line of content.toString('utf8').split('\n')) {
    const path = line.trim();
    if (path.startsWith('/') && path !== '/.' && path !== '/') paths.push(path);
  }
  return paths;
}

/** The paths of a distroless `status.d/<pkg>.md5sums` (`<md5>  <relative path>` lines). */
export function parseMd5sums(content: Buffer): string[] {
  const paths: string[] = [];
  for (const line of content.toString('utf8').split('\n')) {
    const m = /^[0-9a-f]{32}\s+(\S.*)$/i.exec(line.trim());
    if (m?.[1]) paths.push(`/${m[1].replace(/^\/+/, '')}`);
  }
  return paths;
}
