import { type BlobRead, DatabaseError } from './blobs.js';

/**
 * Berkeley DB hash databases (rpm < 4.16 `Packages`), read page by page (libdb `dbinc/db_page.h`): the metadata
 * page gives magic, page size and last page; hash pages hold key/value item pairs; a value is either on the page
 * (H_KEYDATA) or in a chain of overflow pages (H_OFFPAGE). Values are rpm header blobs.
 */
const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
const PAGE_SIZES = new Set([512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);

export function isBerkeleyHash(content: Buffer): boolean {
  if (content.length < 512) return false;
  return content.readUInt32LE(12) === HASH_MAGIC || content.readUInt32BE(12) === HASH_MAGIC;
}

export function readBerkeleyDb(content: Buffer): BlobRead {
  if (!isBerkeleyHash(content)) throw new DatabaseError('not a Berkeley DB hash database (bad magic)');
  const le = content.readUInt32LE(12) === HASH_MAGIC;
  const u32 = (at: number) => (le ? content.readUInt32LE(at) : content.readUInt32BE(at));
  const u16 = (at: number) => (le ? content.readUInt16LE(at) : content.readUInt16BE(at));
  const pageSize = u32(20);
  if (!PAGE_SIZES.has(pageSize)) throw new DatabaseError(`unexpected Berkeley DB page size ${pageSize}`);
  const pagesInFile = Math.floor(content.length / pageSize);
  const lastPage = Math.min(u32(32), pagesInFile - 1);
  const result: BlobRead = { blobs: [], problems: [] };
  if (u32(32) >= pagesInFile) result.problems.push(`database claims ${u32(32) + 1} pages, file holds ${pagesInFile}`);

  for (let pgno = 1; pgno <= lastPage; pgno++) {
    const page = pgno * pageSize;
    const type = content[page + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(page + 20);
    if (PAGE_HEADER + entries * 2 > pageSize) {
      result.problems.push(`page ${pgno}: ${entries} entries do not fit the page`);
      continue;
    }
    // Items come in key/value pairs; the odd ones are the values.
    for (let i = 1; i < entries; i += 2) {
      const itemOffset = u16(page + PAGE_HEADER + i * 2);
      if (itemOffset >= pageSize) {
        result.problems.push(`page ${pgno}: item ${i} offset ${itemOffset} outside the page`);
        continue;
      }
      const item = page + itemOffset;
      const itemType = content[item];
      if (itemType === H_OFFPAGE) {
        if (itemOffset + 12 > pageSize) {
          result.problems.push(`page ${pgno}: off-page item ${i} truncated`);
          continue;
        }
        const chain = readOverflow(content, u32(item + 4), u32(item + 8), pageSize, pagesInFile, u16, u32);
        if (typeof chain === 'string') result.problems.push(`page ${pgno}: ${chain}`);
        else result.blobs.push(chain);
      } else if (itemType === H_KEYDATA) {
        // On-page values end where the previous item (lower index = higher offset) starts, or at the page end.
        const previous = i === 0 ? pageSize : u16(page + PAGE_HEADER + (i - 1) * 2);
        const end = previous > itemOffset && previous <= pageSize ? previous : pageSize;
        if (end - itemOffset - 1 >= 8) result.blobs.push(content.subarray(item + 1, page + end));
      }
    }
  }
  return result;
}

function readOverflow(
  content: Buffer,
  firstPage: number,
  totalLength: number,
  pageSize: number,
  pagesInFile: number,
  u16: (at: number) => number,
  u32: (at: number) => number,
): Buffer | string {
  const parts: Buffer[] = [];
  let length = 0;
  const visited = new Set<number>();
  for (let pgno = firstPage; pgno !== 0; ) {
    if (pgno >= pagesInFile) return `overflow chain points at page ${pgno} beyond the file`;
    if (visited.has(pgno)) return `overflow chain loops at page ${pgno}`;
    visited.add(pgno);
    const page = pgno * pageSize;
    if (content[page + 25] !== P_OVERFLOW) return `overflow chain reaches non-overflow page ${pgno}`;
    const next = u32(page + 16);
    // On overflow pages the "high free offset" field holds the bytes used on that page.
    const used = Math.min(u16(page + 22), pageSize - PAGE_HEADER);
    const take = next === 0 ? used : pageSize - PAGE_HEADER;
    parts.push(content.subarray(page + PAGE_HEADER, page + PAGE_HEADER + take));
    length += take;
    if (length > totalLength + pageSize) return 'overflow chain longer than its item says';
    pgno = next;
  }
  const blob = Buffer.concat(parts);
  return blob.length > totalLength ? blob.subarray(0, totalLength) : blob;
}
