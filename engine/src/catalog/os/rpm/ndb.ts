import { type BlobRead, DatabaseError } from './blobs.js';

/**
 * rpm's NDB `Packages.db` (rpm `lib/backend/ndb/rpmpkg.c`), all little-endian: a 32-byte header (magic `RpmP`,
 * version 0, generation, slot page count), slot pages of 4096 bytes holding 16-byte slots (magic `Slot`,
 * package index, block offset, block count; the header takes the first two slots), and blobs at
 * `blockOffset * 16`: a 16-byte blob header (magic `BlbS`, package index, checksum, length) then the header blob.
 */
const HEADER_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"
const SLOT_PAGE = 4096;
const SLOT_SIZE = 16;
const BLOCK = 16;
/** rpm's own bound (go-rpmdb uses the same): more slot pages than this is damage. */
const MAX_SLOT_PAGES = 2048;

export function isNdb(content: Buffer): boolean {
  return content.length >= 32 && content.readUInt32LE(0) === HEADER_MAGIC;
}

export function readNdb(content: Buffer): BlobRead {
  if (!isNdb(content)) throw new DatabaseError('not an rpm NDB database (bad magic)');
  const version = content.readUInt32LE(4);
  if (version !== 0) throw new DatabaseError(`unsupported NDB version ${version}`);
  const slotPages = content.readUInt32LE(12);
  if (slotPages === 0 || slotPages > MAX_SLOT_PAGES)
    throw new DatabaseError(`NDB slot page count ${slotPages} out of range`);
  const result: BlobRead = { blobs: [], problems: [] };
  const slotsEnd = Math.min(slotPages * SLOT_PAGE, content.length - (content.length % SLOT_SIZE));
  if (slotPages * SLOT_PAGE > content.length) result.problems.push('slot pages run past the end of the file');

  for (let at = 2 * SLOT_SIZE; at + SLOT_SIZE <= slotsEnd; at += SLOT_SIZE) {
    if (content.readUInt32LE(at) !== SLOT_MAGIC) {
      result.problems.push(`bad slot magic at byte ${at}; remaining slots skipped`);
      break;
    }
    const pkgIndex = content.readUInt32LE(at + 4);
    if (pkgIndex === 0) continue;
    const blobAt = content.readUInt32LE(at + 8) * BLOCK;
    if (blobAt + 16 > content.length) {
      result.problems.push(`package ${pkgIndex}: blob offset ${blobAt} beyond the file`);
      continue;
    }
    if (content.readUInt32LE(blobAt) !== BLOB_MAGIC || content.readUInt32LE(blobAt + 4) !== pkgIndex) {
      result.problems.push(`package ${pkgIndex}: no blob at byte ${blobAt}`);
      continue;
    }
    const length = content.readUInt32LE(blobAt + 12);
    if (blobAt + 16 + length > content.length) {
      result.problems.push(`package ${pkgIndex}: blob of ${length} bytes runs past the file`);
      continue;
    }
    result.blobs.push(content.subarray(blobAt + 16, blobAt + 16 + length));
  }
  return result;
}
