import { parseMetrics } from './vector.js';

/*
 * CVSS v3.0 and v3.1 base score (FIRST specification, section 7.1 and Appendix A). Temporal and environmental
 * metrics are validated but do not change the base score. v3.1 uses the specification's Roundup (integer
 * arithmetic, immune to floating-point noise); v3.0 the original ceil-to-one-decimal.
 */

const X = 'X';
const ALLOWED: Record<string, readonly string[]> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'R'],
  S: ['U', 'C'],
  C: ['H', 'L', 'N'],
  I: ['H', 'L', 'N'],
  A: ['H', 'L', 'N'],
  E: [X, 'U', 'P', 'F', 'H'],
  RL: [X, 'O', 'T', 'W', 'U'],
  RC: [X, 'U', 'R', 'C'],
  CR: [X, 'L', 'M', 'H'],
  IR: [X, 'L', 'M', 'H'],
  AR: [X, 'L', 'M', 'H'],
  MAV: [X, 'N', 'A', 'L', 'P'],
  MAC: [X, 'L', 'H'],
  MPR: [X, 'N', 'L', 'H'],
  MUI: [X, 'N', 'R'],
  MS: [X, 'U', 'C'],
  MC: [X, 'N', 'L', 'H'],
  MI: [X, 'N', 'L', 'H'],
  MA: [X, 'N', 'L', 'H'],
};
const BASE = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'];

const AV: Record<string, number> = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 };
const AC: Record<string, number> = { L: 0.77, H: 0.44 };
const PR_UNCHANGED: Record<string, number> = { N: 0.85, L: 0.62, H: 0.27 };
const PR_CHANGED: Record<string, number> = { N: 0.85, L: 0.68, H: 0.5 };
const UI: Record<string, number> = { N: 0.85, R: 0.62 };
const CIA: Record<string, number> = { H: 0.56, L: 0.22, N: 0 };

/** Appendix A: the smallest number with one decimal place that is >= the input, computed on integers. */
export function roundup31(value: number): number {
  const intInput = Math.round(value * 100000);
  if (intInput % 10000 === 0) return intInput / 100000;
  return (Math.floor(intInput / 10000) + 1) / 10;
}

function roundup30(value: number): number {
  return Math.ceil(value * 10) / 10;
}

/** `CVSS:3.0/…` or `CVSS:3.1/…` → base score, or undefined if the vector is not a valid v3 vector. */
export function cvss3BaseScore(vector: string): { version: '3.0' | '3.1'; score: number } | undefined {
  const m = /^CVSS:3\.([01])\/(.*)$/.exec(vector);
  if (!m) return undefined;
  const version = m[1] === '0' ? '3.0' : '3.1';
  const metrics = parseMetrics(m[2]!, ALLOWED, BASE);
  if (!metrics) return undefined;
  const get = (k: string) => metrics.get(k)!;
  const changed = get('S') === 'C';
  const iss = 1 - (1 - CIA[get('C')]!) * (1 - CIA[get('I')]!) * (1 - CIA[get('A')]!);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const pr = (changed ? PR_CHANGED : PR_UNCHANGED)[get('PR')]!;
  const exploitability = 8.22 * AV[get('AV')]! * AC[get('AC')]! * pr * UI[get('UI')]!;
  const roundup = version === '3.1' ? roundup31 : roundup30;
  if (impact <= 0) return { version, score: 0 };
  const raw = changed ? Math.min(1.08 * (impact + exploitability), 10) : Math.min(impact + exploitability, 10);
  return { version, score: roundup(raw) };
}
