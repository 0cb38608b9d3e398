import { createHash, randomUUID } from 'node:crypto';
import type { Report } from '../model/report.js';
import type { RenderOptions } from '../report/render-options.js';

/** The document's creation time: SOURCE_DATE_EPOCH when set (reproducible builds), else the scan time. */
export function sbomTimestamp(report: Report, options: Pick<RenderOptions, 'sourceDateEpoch'>): string {
  const date =
    options.sourceDateEpoch !== undefined ? new Date(options.sourceDateEpoch * 1000) : new Date(report.createdAt);
  const valid = Number.isNaN(date.getTime()) ? new Date(0) : date;
  // Whole seconds: SPDX's `created` is documented as YYYY-MM-DDThh:mm:ssZ.
  return valid.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A document id: random, unless SOURCE_DATE_EPOCH asks for reproducible output, in which case it is derived
 * from the document's content so the same input always gets the same id and different inputs different ones.
 */
export function documentUuid(
  options: Pick<RenderOptions, 'sourceDateEpoch'>,
  content: string | (() => string),
): string {
  if (options.sourceDateEpoch === undefined) return randomUUID();
  // A function defers serializing a large document to the reproducible case, the only one that reads it.
  return uuidFromContent(typeof content === 'function' ? content() : content);
}

/** An RFC 4122 version-5-shaped UUID from a SHA-256 of the content (name-based, not random). */
export function uuidFromContent(content: string): string {
  const bytes = createHash('sha256').update(content).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
