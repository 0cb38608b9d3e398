import { createInterface } from 'node:readline';
import { type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { openRegularFile } from '../image/sources/regular-file.js';
import type { EpssScore } from './store.js';

export interface EpssHeader {
  modelVersion?: string;
  scoreDate?: string;
}

export interface EpssRow extends EpssScore {
  cve: string;
}

const CVE = /^CVE-\d{4}-\d{4,}$/;
/** A real EPSS line is ~40 characters; readline would otherwise gather a line of any length (past V8's string limit). */
const MAX_LINE_BYTES = 4096;
/** FIRST scores every published CVE: ~300k rows in 2025. Ten times that is not an EPSS file. */
export const MAX_EPSS_ROWS = 3_000_000;

/** Does the file start like FIRST's EPSS CSV (gzip magic, its `#model_version` comment, or its header)? */
export async function looksLikeEpss(file: string): Promise<boolean> {
  const handle = await openRegularFile(file, 'document');
  try {
    const head = Buffer.alloc(32);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const text = head.subarray(0, bytesRead);
    if (text[0] === 0x1f && text[1] === 0x8b) return /epss/i.test(file);
    const s = text.toString('latin1');
    return s.startsWith('#model_version') || s.toLowerCase().startsWith('cve,epss');
  } finally {
    await handle.close();
  }
}

/**
 * Streams an EPSS CSV (plain or gzipped) line by line: ~250k rows, never held whole. Bad rows are counted
 * (the caller warns); a file without the `cve,epss` header is rejected as not EPSS at all.
 */
export async function readEpss(
  file: string,
  onRow: (row: EpssRow) => void,
): Promise<EpssHeader & { rows: number; skipped: number }> {
  const gz = await isGzip(file);
  const raw = (await openRegularFile(file, 'document')).createReadStream();
  const decoded: Readable = gz ? raw.pipe(createGunzip()) : raw;
  const input = decoded.pipe(boundedLines(file));
  // .pipe() forwards no errors: a cut gzip stream must still fail the lines read from it
  decoded.on('error', (err) => input.destroy(err));
  const header: EpssHeader = {};
  let columns: { cve: number; epss: number; percentile: number } | undefined;
  let rows = 0;
  let skipped = 0;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (line.length > MAX_LINE_BYTES) {
        throw new LadingError('BAD_INPUT', `${file}: EPSS line longer than ${MAX_LINE_BYTES} characters`);
      }
      if (line.startsWith('#')) {
        Object.assign(header, parseComment(line));
        continue;
      }
      if (line.trim() === '') continue;
      const cells = line.split(',').map((c) => c.trim());
      if (!columns) {
        const names = cells.map((c) => c.toLowerCase());
        columns = { cve: names.indexOf('cve'), epss: names.indexOf('epss'), percentile: names.indexOf('percentile') };
        if (columns.cve < 0 || columns.epss < 0) {
          throw new LadingError('BAD_INPUT', `${file}: not an EPSS CSV (no "cve,epss" header)`);
        }
        continue;
      }
      const cve = cells[columns.cve] ?? '';
      const score = Number(cells[columns.epss]);
      const percentile = columns.percentile >= 0 ? Number(cells[columns.percentile]) : Number.NaN;
      if (!CVE.test(cve) || !Number.isFinite(score) || score < 0 || score > 1) {
        skipped++;
        continue;
      }
      if (rows + skipped >= MAX_EPSS_ROWS) {
        throw new LadingError('BAD_INPUT', `${file}: more than ${MAX_EPSS_ROWS} EPSS rows`);
      }
      onRow(
        Number.isFinite(percentile) && percentile >= 0 && percentile <= 1 ? { cve, score, percentile } : { cve, score },
      );
      rows++;
    }
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError('BAD_INPUT', `${file}: cannot read EPSS data: ${thrownValueText(err)}`, { cause: err });
  } finally {
    lines.close();
    raw.destroy();
  }
  if (!columns) throw new LadingError('BAD_INPUT', `${file}: not an EPSS CSV (no "cve,epss" header)`);
  return { ...header, rows, skipped };
}

/** `#model_version:v2025.03.14,score_date:2025-09-03T12:55:00Z`: the comma splits fields, the first `:` keys. */
function parseComment(line: string): EpssHeader {
  const header: EpssHeader = {};
  for (const field of line.slice(1).split(',')) {
    const colon = field.indexOf(':');
    if (colon === -1) continue;
    const key = field.slice(0, colon).trim();
    const value = field.slice(colon + 1).trim();
    if (key === 'model_version') header.modelVersion = value;
    else if (key === 'score_date') header.scoreDate = value;
  }
  return header;
}

/** Fails the stream as soon as a line runs past MAX_LINE_BYTES, before readline has gathered it whole. */
function boundedLines(file: string): Transform {
  let run = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (let pos = 0; ; ) {
        const newline = chunk.indexOf(10, pos);
        run += (newline === -1 ? chunk.length : newline) - pos;
        if (run > MAX_LINE_BYTES || newline === -1) break;
        run = 0;
        pos = newline + 1;
      }
      if (run > MAX_LINE_BYTES) {
        done(new LadingError('BAD_INPUT', `${file}: EPSS line longer than ${MAX_LINE_BYTES} characters`));
      } else done(null, chunk);
    },
  });
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await openRegularFile(file, 'document');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
