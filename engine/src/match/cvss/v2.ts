import { parseMetrics } from './vector.js';

/* CVSS v2 base score (FIRST "A Complete Guide to the CVSS Version 2", section 3.2.1). */

const ND = 'ND';
const ALLOWED: Record<string, readonly string[]> = {
  AV: ['L', 'A', 'N'],
  AC: ['H', 'M', 'L'],
  Au: ['M', 'S', 'N'],
  C: ['N', 'P', 'C'],
  I: ['N', 'P', 'C'],
  A: ['N', 'P', 'C'],
  E: ['U', 'POC', 'F', 'H', ND],
  RL: ['OF', 'TF', 'W', 'U', ND],
  RC: ['UC', 'UR', 'C', ND],
  CDP: ['N', 'L', 'LM', 'MH', 'H', ND],
  TD: ['N', 'L', 'M', 'H', ND],
  CR: ['L', 'M', 'H', ND],
  IR: ['L', 'M', 'H', ND],
  AR: ['L', 'M', 'H', ND],
};
const BASE = ['AV', 'AC', 'Au', 'C', 'I', 'A'];

const AV: Record<string, number> = { L: 0.395, A: 0.646, N: 1.0 };
const AC: Record<string, number> = { H: 0.35, M: 0.61, L: 0.71 };
const AU: Record<string, number> = { M: 0.45, S: 0.56, N: 0.704 };
const CIA: Record<string, number> = { N: 0, P: 0.275, C: 0.66 };

/** `AV:N/AC:L/Au:N/C:P/I:P/A:P` (optionally in parentheses or after `CVSS:2.0/`) → base score. */
export function cvss2BaseScore(vector: string): number | undefined {
  let body = vector;
  if (body.startsWith('(') && body.endsWith(')')) body = body.slice(1, -1);
  if (body.startsWith('CVSS:2.0/')) body = body.slice('CVSS:2.0/'.length);
  const metrics = parseMetrics(body, ALLOWED, BASE);
  if (!metrics) return undefined;
  const get = (k: string) => metrics.get(k)!;
  const impact = 10.41 * (1 - (1 - CIA[get('C')]!) * (1 - CIA[get('I')]!) * (1 - CIA[get('A')]!));
  const exploitability = 20 * AV[get('AV')]! * AC[get('AC')]! * AU[get('Au')]!;
  const f = impact === 0 ? 0 : 1.176;
  const raw = (0.6 * impact + 0.4 * exploitability - 1.5) * f;
  // one decimal, half up; the epsilon absorbs binary noise such as 4.2999999999 for a true 4.3
  return Math.round(raw * 10 + 1e-9) / 10;
}
