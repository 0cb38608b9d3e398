import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OsvRecord } from '../../src/model/osv.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/vulndb/', import.meta.url));
export const OSV_FIXTURES = join(FIXTURES, 'osv');

/** The fixture records of one ecosystem folder, as zip entries named like OSV's all.zip (`<ID>.json`). */
export function ecosystemEntries(ecosystem: string): { name: string; data: Buffer }[] {
  const dir = join(OSV_FIXTURES, ecosystem);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, data: readFileSync(join(dir, f)) }));
}

export function fixtureRecord(ecosystem: string, id: string): OsvRecord {
  return JSON.parse(readFileSync(join(OSV_FIXTURES, ecosystem, `${id}.json`), 'utf8')) as OsvRecord;
}
