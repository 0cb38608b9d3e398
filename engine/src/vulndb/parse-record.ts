import type { OsvRecord } from '../model/osv.js';

export type ParsedRecord = { record: OsvRecord } | { error: string };

const EVENT_KEYS = new Set(['introduced', 'fixed', 'last_affected', 'limit']);

/**
 * Checks the parts of an OSV record the store and matcher rely on; unknown fields are kept (the schema
 * only grows). Anything else wrong is one message, so the importer can warn and go on with the next record.
 */
export function parseOsvRecord(value: unknown): ParsedRecord {
  if (!isObject(value)) return { error: 'not a JSON object' };
  if (typeof value['id'] !== 'string' || value['id'] === '' || value['id'].length > 200) {
    return { error: 'missing or invalid "id"' };
  }
  const id = value['id'];
  if (typeof value['modified'] !== 'string' || value['modified'] === '') {
    return { error: `${id}: missing or invalid "modified"` };
  }
  for (const key of ['withdrawn', 'published', 'summary', 'details'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') return { error: `${id}: "${key}" is not a string` };
  }
  for (const key of ['aliases', 'upstream', 'related'] as const) {
    const list = value[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((x) => typeof x !== 'string'))) {
      return { error: `${id}: "${key}" is not a list of strings` };
    }
  }
  const severity = checkSeverity(value['severity']);
  if (severity) return { error: `${id}: ${severity}` };
  const affected = value['affected'];
  if (affected !== undefined) {
    if (!Array.isArray(affected)) return { error: `${id}: "affected" is not a list` };
    for (const [i, entry] of affected.entries()) {
      const problem = checkAffected(entry);
      if (problem) return { error: `${id}: affected[${i}]: ${problem}` };
    }
  }
  return { record: value as unknown as OsvRecord };
}

function checkAffected(entry: unknown): string | undefined {
  if (!isObject(entry)) return 'not an object';
  const pkg = entry['package'];
  if (pkg !== undefined) {
    if (!isObject(pkg) || typeof pkg['ecosystem'] !== 'string' || typeof pkg['name'] !== 'string') {
      return '"package" needs string "ecosystem" and "name"';
    }
  }
  const versions = entry['versions'];
  if (versions !== undefined && (!Array.isArray(versions) || versions.some((v) => typeof v !== 'string'))) {
    return '"versions" is not a list of strings';
  }
  const severity = checkSeverity(entry['severity']);
  if (severity) return severity;
  for (const key of ['ecosystem_specific', 'database_specific'] as const) {
    if (entry[key] !== undefined && !isObject(entry[key])) return `"${key}" is not an object`;
  }
  const ranges = entry['ranges'];
  if (ranges === undefined) return undefined;
  if (!Array.isArray(ranges)) return '"ranges" is not a list';
  for (const range of ranges) {
    if (!isObject(range) || typeof range['type'] !== 'string' || !Array.isArray(range['events'])) {
      return 'a range needs a string "type" and a list of "events"';
    }
    for (const event of range['events']) {
      if (!isObject(event)) return 'an event is not an object';
      const keys = Object.keys(event);
      const key = keys[0];
      if (keys.length !== 1 || key === undefined || !EVENT_KEYS.has(key) || typeof event[key] !== 'string') {
        return `invalid event ${JSON.stringify(event).slice(0, 80)}`;
      }
    }
  }
  return undefined;
}

function checkSeverity(severity: unknown): string | undefined {
  if (severity === undefined) return undefined;
  if (!Array.isArray(severity)) return '"severity" is not a list';
  for (const s of severity) {
    if (!isObject(s) || typeof s['type'] !== 'string' || typeof s['score'] !== 'string') {
      return 'a severity needs string "type" and "score"';
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
