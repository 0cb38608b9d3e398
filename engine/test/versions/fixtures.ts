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

/** Reads one of the upstream vector files (facts, not invented; sources in ../fixtures/versions/README.md). */
export function loadVectors<T = PairCase>(file: string): T[] {
  return JSON.parse(readFileSync(new URL(`../fixtures/versions/${file}`, import.meta.url), 'utf8')) as T[];
}

export function describePair(c: PairCase): string {
  return `${JSON.stringify(c.a)} vs ${JSON.stringify(c.b)} (${c.src ?? ''})`;
}
