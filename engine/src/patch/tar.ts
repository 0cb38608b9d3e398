// Tar for package payloads, held in memory (a package's data is bounded by the caller's limit): read entries with
// their pax records (long names, xattrs), and write the entries of the patch layer (ustar, pax records when needed).
import { LadingError } from '../errors/lading-error.js';

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'directory' | 'char' | 'block' | 'fifo';

export interface TarItem {
  /** Normalized: relative, no `./`, no trailing `/` (`usr/lib/x`). */
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  /** Symlink target as recorded; hard link target normalized like `path`. */
  linkname: string;
  devmajor?: number;
  devminor?: number;
  data: Buffer;
  /** `SCHILY.xattr.*` pax records, by attribute name (value bytes as latin1). */
  xattrs: Record<string, string>;
}

const BLOCK = 512;
const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};
const FLAGS: Record<EntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', message);
}

/** A package path made relative and checked: `..` components or a NUL would reach outside the image root. */
export function safePath(name: string, what: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' || part.includes('\0')) throw bad(`${what}: the path ${JSON.stringify(name)} leaves the root`);
    parts.push(part);
  }
  return parts.join('/');
}

function str(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end >= 0 && end < start + len ? end : start + len);
}

function num(buf: Buffer, start: number, len: number, what: string): number {
  if ((buf[start] as number) & 0x80) {
    let v = 0;
    for (let i = 1; i < len; i++) v = v * 256 + (buf[start + i] as number);
    return v;
  }
  const text = str(buf, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw bad(`${what}: corrupt tar header`);
  return Number.parseInt(text, 8);
}

function paxRecords(data: Buffer, what: string): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) throw bad(`${what}: corrupt pax record`);
    const len = Number(data.toString('latin1', at, space));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length) throw bad(`${what}: corrupt pax record`);
    const record = data.subarray(space + 1, at + len - 1);
    const eq = record.indexOf(0x3d);
    const key = record.toString('utf8', 0, eq);
    records.set(
      key,
      key.startsWith('SCHILY.xattr.') ? record.toString('latin1', eq + 1) : record.toString('utf8', eq + 1),
    );
    at += len;
  }
  return records;
}

/**
 * The entries of a tar held in `data`. Limits: at most `maxEntries` entries; paths are checked with `safePath`; hard
 * link targets too. A truncated archive or a corrupt header is a BAD_INPUT error naming `what`.
 */
export function readTar(data: Buffer, what: string, maxEntries = 200_000): TarItem[] {
  const items: TarItem[] = [];
  let at = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (at + BLOCK <= data.length) {
    const header = data.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) return items;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    if (sum !== num(header, 148, 8, what)) throw bad(`${what}: corrupt tar header (checksum)`);
    const size = num(header, 124, 12, what);
    const start = at + BLOCK;
    if (start + size > data.length) throw bad(`${what}: truncated tar`);
    const body = data.subarray(start, start + size);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    const flag = String.fromCharCode(header[156] as number);
    if (flag === 'x') {
      pax = paxRecords(body, what);
      continue;
    }
    if (flag === 'g') continue;
    if (flag === 'L' || flag === 'K') {
      const text = body.toString('utf8').replace(/\0+$/, '');
      if (flag === 'L') longName = text;
      else longLink = text;
      continue;
    }
    const type = TYPES[flag];
    if (!type) throw bad(`${what}: unsupported tar entry type ${JSON.stringify(flag)}`);
    const prefix = header.subarray(257, 263).toString('latin1') === 'ustar\0' ? str(header, 345, 155) : '';
    const rawName = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${str(header, 0, 100)}` : str(header, 0, 100));
    const rawLink = pax.get('linkpath') ?? longLink ?? str(header, 157, 100);
    const xattrs: Record<string, string> = {};
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
    const item: TarItem = {
      path: safePath(rawName, what),
      type,
      mode: num(header, 100, 8, what) & 0o7777,
      uid: pax.has('uid') ? Number(pax.get('uid')) : num(header, 108, 8, what),
      gid: pax.has('gid') ? Number(pax.get('gid')) : num(header, 116, 8, what),
      uname: pax.get('uname') ?? str(header, 265, 32),
      gname: pax.get('gname') ?? str(header, 297, 32),
      mtime: pax.has('mtime') ? Math.floor(Number(pax.get('mtime'))) : num(header, 136, 12, what),
      linkname: type === 'hardlink' ? safePath(rawLink, what) : rawLink,
      data: type === 'file' ? body : Buffer.alloc(0),
      xattrs,
    };
    if (type === 'char' || type === 'block') {
      item.devmajor = num(header, 329, 8, what);
      item.devminor = num(header, 337, 8, what);
    }
    items.push(item);
    if (items.length > maxEntries) throw new LadingError('LIMIT', `${what}: more than ${maxEntries} entries`);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
  }
  throw bad(`${what}: truncated tar (no end-of-archive blocks)`);
}

function putString(buf: Buffer, value: string, start: number, len: number): void {
  buf.write(value, start, len, 'utf8');
}

function putOctal(buf: Buffer, value: number, start: number, len: number): void {
  buf.write(`${value.toString(8).padStart(len - 1, '0')}\0`, start, len, 'latin1');
}

function paxRecord(key: string, value: string, encoding: BufferEncoding): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), Buffer.from(value, encoding), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function header(
  name: string,
  flag: string,
  size: number,
  item: Omit<TarItem, 'path' | 'type' | 'data' | 'xattrs'>,
): Buffer {
  const h = Buffer.alloc(BLOCK);
  putString(h, name, 0, 100);
  putOctal(h, item.mode, 100, 8);
  putOctal(h, item.uid, 108, 8);
  putOctal(h, item.gid, 116, 8);
  putOctal(h, size, 124, 12);
  putOctal(h, item.mtime, 136, 12);
  h.write(flag, 156, 1, 'latin1');
  putString(h, item.linkname, 157, 100);
  h.write('ustar\0' + '00', 257, 8, 'latin1');
  putString(h, item.uname, 265, 32);
  putString(h, item.gname, 297, 32);
  putOctal(h, item.devmajor ?? 0, 329, 8);
  putOctal(h, item.devminor ?? 0, 337, 8);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** One entry as tar blocks: a pax header first when the names are long or not ASCII, or xattrs are set. */
export function tarEntry(item: TarItem): Buffer {
  const records: Buffer[] = [];
  const ascii = (s: string) => /^[\x20-\x7e]*$/.test(s);
  const name = item.type === 'directory' ? `${item.path}/` : item.path;
  if (Buffer.byteLength(name) > 100 || !ascii(name)) records.push(paxRecord('path', name, 'utf8'));
  if (Buffer.byteLength(item.linkname) > 100 || !ascii(item.linkname)) {
    records.push(paxRecord('linkpath', item.linkname, 'utf8'));
  }
  for (const [k, v] of Object.entries(item.xattrs).sort(([a], [b]) => (a < b ? -1 : 1))) {
    records.push(paxRecord(`SCHILY.xattr.${k}`, v, 'latin1'));
  }
  const parts: Buffer[] = [];
  if (records.length > 0) {
    const body = Buffer.concat(records);
    const paxName = `PaxHeaders/${name.slice(-80)}`.slice(0, 99);
    parts.push(header(paxName, 'x', body.length, { ...item, linkname: '' }), body, padding(body.length));
  }
  const size = item.type === 'file' ? item.data.length : 0;
  parts.push(header(name.slice(0, 100), FLAGS[item.type], size, { ...item, linkname: item.linkname.slice(0, 100) }));
  if (size > 0) parts.push(item.data, padding(size));
  return Buffer.concat(parts);
}

export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
