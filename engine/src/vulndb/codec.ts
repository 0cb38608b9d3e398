import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { OsvRecord } from '../model/osv.js';

// Whole records are kept (the matcher and future renderers read fields we do not index); raw deflate
// shrinks OSV JSON about 4x and inflates faster than the JSON parse that follows.
export function encodeRecord(record: OsvRecord): Buffer {
  return deflateRawSync(Buffer.from(JSON.stringify(record)), { level: 4 });
}

export function decodeRecord(data: Uint8Array): OsvRecord {
  return JSON.parse(inflateRawSync(data).toString('utf8')) as OsvRecord;
}
