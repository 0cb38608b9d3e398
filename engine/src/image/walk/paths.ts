import { LadingError } from '../../errors/lading-error.js';

/**
 * A tar entry name as an absolute POSIX path inside the image root. Names that climb out of the root are not
 * paths inside the image but an attack on whoever extracts it: an error, not something to clamp.
 */
export function entryPath(name: string): string {
  // Most names are already clean (`usr/bin/x`, `./usr/bin/x`, `usr/share/`): no segment to drop or resolve.
  const body = trimSlash(name.startsWith('./') ? name.slice(2) : name);
  if (body !== '' && !NEEDS_RESOLVING.test(body)) return `/${body}`;
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new LadingError('BAD_INPUT', `tar entry ${JSON.stringify(name)} escapes the root`);
      parts.pop();
    } else parts.push(part);
  }
  return '/' + parts.join('/');
}

/** An empty, `.` or `..` segment, or a leading slash, anywhere in the name. */
const NEEDS_RESOLVING = /(?:^|\/)\.{0,2}(?:\/|$)|^\//;

function trimSlash(name: string): string {
  return name.endsWith('/') ? name.slice(0, -1) : name;
}

export function parentOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

export type Whiteout = { kind: 'whiteout'; path: string } | { kind: 'opaque'; path: string };

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Recognizes the AUFS-style markers OCI layers use for deletions. */
export function whiteoutOf(path: string): Whiteout | undefined {
  // Nearly every path is no marker: tell that without cutting the name out.
  if (!path.includes(WH)) return undefined;
  const at = path.lastIndexOf('/');
  const base = path.slice(at + 1);
  if (!base.startsWith(WH)) return undefined;
  const dir = at <= 0 ? '' : path.slice(0, at);
  if (base === OPAQUE) return { kind: 'opaque', path: dir || '/' };
  const target = base.slice(WH.length);
  if (target === '' || target === '.' || target === '..' || target.startsWith(WH)) return undefined;
  return { kind: 'whiteout', path: `${dir}/${target}` };
}

export interface LinkNode {
  type: 'file' | 'symlink' | 'hardlink' | 'other';
  linkTarget?: string;
}

export type Resolution =
  | { ok: true; path: string }
  | { ok: false; reason: 'escapes' | 'missing' | 'loop' | 'not-a-file' };

const MAX_HOPS = 40;

/**
 * Resolves `path` inside the image root: every symlink (in any component) is followed as the image would see it,
 * absolute targets start at the image root, and `..` above the root is refused rather than clamped.
 */
export function resolveInRoot(path: string, lookup: (path: string) => LinkNode | undefined): Resolution {
  let pending = path.split('/').filter((p) => p !== '');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      if (done.length === 0) return { ok: false, reason: 'escapes' };
      done.pop();
      continue;
    }
    const here = '/' + [...done, part].join('/');
    const node = lookup(here);
    if (node?.type === 'symlink') {
      if (++hops > MAX_HOPS) return { ok: false, reason: 'loop' };
      const target = node.linkTarget ?? '';
      const rest = target.split('/').filter((p) => p !== '');
      if (target.startsWith('/')) done.length = 0;
      pending = [...rest, ...pending];
      continue;
    }
    if (node?.type === 'hardlink' && pending.length === 0) {
      if (++hops > MAX_HOPS) return { ok: false, reason: 'loop' };
      done.length = 0;
      pending = (node.linkTarget ?? '').split('/').filter((p) => p !== '');
      continue;
    }
    done.push(part);
  }
  const final = '/' + done.join('/');
  const node = lookup(final);
  if (!node) return { ok: false, reason: 'missing' };
  if (node.type !== 'file') return { ok: false, reason: 'not-a-file' };
  return { ok: true, path: final };
}
