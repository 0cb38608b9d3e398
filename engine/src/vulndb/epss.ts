import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import type { EpssScore } from './store.js';

export interface EpssHeader {
  modelVersion?: string;
  scoreDate?: string;
}

export interface EpssRow extends EpssScore {
  cve: string;
}

const CVE = /^CVE-\d{4}-\d{4,}$/;

/** Does the file start like FIRST's EPSS CSV (gzip magic, its `#model_version` comment, or its header)? */
export async function looksLikeEpss(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
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
  const raw = createReadStream(file);
  const gz = await isGzip(file);
  const input: Readable = gz ? raw.pipe(createGunzip()) : raw;
  const header: EpssHeader = {};
  let columns: { cve: number; epss: number; percentile: number } | undefined;
  let rows = 0;
  let skipped = 0;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (line.length > 4096) throw new LadingError('BAD_INPUT', `${file}: EPSS line longer than 4096 characters`);
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

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
