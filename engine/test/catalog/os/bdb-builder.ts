/**
 * Test helpers for Berkeley DB hash files: a byte-order swap of a real database (rpm databases from big-endian
 * hosts such as s390x are stored big-endian), and a minimal database whose values sit on the hash page itself.
 * Offsets follow libdb `dbinc/db_page.h` (26-byte page header; hash metadata magic at 12, page size at 20,
 * last page at 32).
 */
const PAGE_HEADER = 26;

function swap32(buf: Buffer, at: number): void {
  buf.writeUInt32BE(buf.readUInt32LE(at), at);
}
function swap16(buf: Buffer, at: number): void {
  buf.writeUInt16BE(buf.readUInt16LE(at), at);
}

export function swapToBigEndian(le: Buffer): Buffer {
  const db = Buffer.from(le);
  const pageSize = le.readUInt32LE(20);
  for (const at of [8, 12, 16, 20, 28, 32]) swap32(db, at);
  for (let page = pageSize; page + pageSize <= db.length; page += pageSize) {
    const type = le[page + 25];
    for (const at of [8, 12, 16]) swap32(db, page + at);
    swap16(db, page + 20);
    swap16(db, page + 22);
    if (type === 13 || type === 2) {
      const entries = le.readUInt16LE(page + 20);
      for (let i = 0; i < entries; i++) {
        const index = page + PAGE_HEADER + i * 2;
        const offset = le.readUInt16LE(index);
        swap16(db, index);
        if (le[page + offset] === 3) {
          swap32(db, page + offset + 4);
          swap32(db, page + offset + 8);
        }
      }
    }
  }
  return db;
}

/** Page 0: hash metadata; page 1: one hash page holding `values` as on-page (H_KEYDATA) items under 4-byte keys. */
export function onPageDatabase(values: Buffer[], pageSize = 65536): Buffer {
  const db = Buffer.alloc(pageSize * 2);
  db.writeUInt32LE(0, 8);
  db.writeUInt32LE(0x061561, 12);
  db.writeUInt32LE(pageSize, 20);
  db.writeUInt32LE(1, 32);
  const page = pageSize;
  db.writeUInt32LE(1, page + 8);
  db.writeUInt16LE(values.length * 2, page + 20);
  db[page + 25] = 13;
  let top = pageSize;
  values.forEach((value, n) => {
    const key = Buffer.alloc(5);
    key[0] = 1;
    key.writeUInt32LE(n + 1, 1);
    for (const [slot, item] of [
      [n * 2, key],
      [n * 2 + 1, Buffer.concat([Buffer.from([1]), value])],
    ] as const) {
      top -= item.length;
      item.copy(db, page + top);
      db.writeUInt16LE(top, page + PAGE_HEADER + slot * 2);
    }
  });
  db.writeUInt16LE(top, page + 22);
  return db;
}
