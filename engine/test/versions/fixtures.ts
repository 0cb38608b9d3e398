import { readFileSync } from 'node:fs';

export interface PairCase {
  a: string;
  b: string;
  cmp: -1 | 0 | 1;
  src?: string;
  loose?: boolean;
  note?: string;
  not_in_2_14_stable?: boolean;
}

/** Reads one of the upstream vector files copied from /work/shared/testdata/versions (facts, not invented). */
export function loadVectors<T = PairCase>(file: string): T[] {
  return JSON.parse(readFileSync(new URL(`../fixtures/versions/${file}`, import.meta.url), 'utf8')) as T[];
}

export function describePair(c: PairCase): string {
  return `${JSON.stringify(c.a)} vs ${JSON.stringify(c.b)} (${c.src ?? ''})`;
}
