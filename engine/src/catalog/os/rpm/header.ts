/**
 * rpm header blobs as the package databases store them (rpm `lib/header.c`, "header blob" without the lead
 * magic): int32 BE index count `il`, int32 BE data length `dl`, `il` 16-byte index entries (tag, type, offset,
 * count; all BE), then `dl` bytes of data. Every offset and count is checked against the blob: hostile input.
 */
export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIRENAME: 1049,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  MODULARITYLABEL: 5096,
} as const;

const TYPE = { INT32: 4, STRING: 6, STRING_ARRAY: 8, I18NSTRING: 9 } as const;

/** rpm's own sanity limits (`hdrchkTags`, `hdrchkData`). */
const MAX_TAGS = 0xffff;
const MAX_DATA = 256 * 1024 * 1024;

export class HeaderError extends Error {}

interface IndexEntry {
  type: number;
  offset: number;
  count: number;
}

export class RpmHeader {
  private readonly entries = new Map<number, IndexEntry>();
  private readonly data: Buffer;

  constructor(blob: Buffer) {
    if (blob.length < 8) throw new HeaderError(`header blob of ${blob.length} bytes is truncated`);
    const il = blob.readUInt32BE(0);
    const dl = blob.readUInt32BE(4);
    if (il === 0 || il > MAX_TAGS) throw new HeaderError(`header index count ${il} out of range`);
    if (dl > MAX_DATA) throw new HeaderError(`header data length ${dl} out of range`);
    const dataStart = 8 + il * 16;
    if (dataStart + dl > blob.length)
      throw new HeaderError(`header needs ${dataStart + dl} bytes, blob has ${blob.length}`);
    this.data = blob.subarray(dataStart, dataStart + dl);
    for (let i = 0; i < il; i++) {
      const at = 8 + i * 16;
      const tag = blob.readUInt32BE(at);
      const entry = {
        type: blob.readUInt32BE(at + 4),
        offset: blob.readUInt32BE(at + 8),
        count: blob.readUInt32BE(at + 12),
      };
      if (entry.offset >= dl && entry.count > 0) continue; // region trailers and damaged entries: ignored
      if (!this.entries.has(tag)) this.entries.set(tag, entry);
    }
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  string(tag: number): string | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type !== TYPE.STRING && e.type !== TYPE.I18NSTRING && e.type !== TYPE.STRING_ARRAY) return undefined;
    return this.readStrings(e, 1)[0];
  }

  strings(tag: number): string[] {
    const e = this.entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.STRING_ARRAY && e.type !== TYPE.STRING && e.type !== TYPE.I18NSTRING) return [];
    return this.readStrings(e, e.type === TYPE.STRING ? 1 : e.count);
  }

  int32s(tag: number): number[] {
    const e = this.entries.get(tag);
    if (!e || e.type !== TYPE.INT32) return [];
    if (e.offset + e.count * 4 > this.data.length)
      throw new HeaderError(`tag ${tag}: ${e.count} int32 values run past the data`);
    const values: number[] = [];
    for (let i = 0; i < e.count; i++) values.push(this.data.readInt32BE(e.offset + i * 4));
    return values;
  }

  int32(tag: number): number | undefined {
    return this.int32s(tag)[0];
  }

  private readStrings(e: IndexEntry, count: number): string[] {
    // A count larger than the data could hold is damage, not a reason to loop for long.
    if (count > this.data.length - e.offset + 1) throw new HeaderError(`string count ${count} runs past the data`);
    const values: string[] = [];
    let pos = e.offset;
    for (let i = 0; i < count; i++) {
      const end = this.data.indexOf(0, pos);
      if (end < 0) throw new HeaderError('unterminated string in header data');
      values.push(this.data.toString('utf8', pos, end));
      pos = end + 1;
    }
    return values;
  }
}

export interface RpmPackageInfo {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  sourceRpm?: string;
  license?: string;
  vendor?: string;
  modularityLabel?: string;
  requires: string[];
  provides: string[];
  files: string[];
}

/** The facts Lading keeps of one header; throws HeaderError on damage. `withFiles: false` skips the file list. */
export function readPackage(blob: Buffer, withFiles = true): RpmPackageInfo {
  const h = new RpmHeader(blob);
  const name = h.string(TAG.NAME);
  const version = h.string(TAG.VERSION);
  const release = h.string(TAG.RELEASE);
  if (!name || version === undefined || release === undefined)
    throw new HeaderError('header without name, version or release');
  const info: RpmPackageInfo = { name, version, release, requires: [], provides: [], files: [] };
  const epoch = h.int32(TAG.EPOCH);
  if (epoch !== undefined) info.epoch = epoch;
  const arch = h.string(TAG.ARCH);
  if (arch) info.arch = arch;
  const sourceRpm = h.string(TAG.SOURCERPM);
  if (sourceRpm) info.sourceRpm = sourceRpm;
  const license = h.string(TAG.LICENSE);
  if (license) info.license = license;
  const vendor = h.string(TAG.VENDOR);
  if (vendor) info.vendor = vendor;
  const modularityLabel = h.string(TAG.MODULARITYLABEL);
  if (modularityLabel) info.modularityLabel = modularityLabel;
  if (!withFiles) return info;
  info.requires = h.strings(TAG.REQUIRENAME);
  info.provides = h.strings(TAG.PROVIDENAME);
  info.files = fileList(h);
  return info;
}

function fileList(h: RpmHeader): string[] {
  const basenames = h.strings(TAG.BASENAMES);
  if (basenames.length === 0) return h.strings(TAG.OLDFILENAMES);
  const dirnames = h.strings(TAG.DIRNAMES);
  const indexes = h.int32s(TAG.DIRINDEXES);
  if (indexes.length !== basenames.length) throw new HeaderError('DIRINDEXES and BASENAMES differ in length');
  return basenames.map((base, i) => {
    const dir = dirnames[indexes[i] ?? -1];
    if (dir === undefined) throw new HeaderError(`DIRINDEXES entry ${indexes[i]} has no DIRNAMES entry`);
    return dir + base;
  });
}
