import { MACROVECTOR_SCORES, MAX_COMPOSED, MAX_SEVERITY } from './v4-tables.js';
import { parseMetrics } from './vector.js';

/*
 * CVSS v4.0 score (FIRST specification section 8.2, as the reference calculator computes it): the vector's
 * MacroVector (EQ1..EQ6) gives the score of its highest-severity vector; that score is lowered by the mean, over
 * the EQs that have a lower MacroVector, of (score gap to that lower MacroVector) × (the vector's severity distance
 * from the highest-severity vector ÷ the EQ's depth). Threat (E) and environmental metrics take part when present,
 * exactly as in the calculator; for a vector with base metrics only this is the CVSS-B base score.
 */

const X = 'X';
const ALLOWED: Record<string, readonly string[]> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  AT: ['N', 'P'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'P', 'A'],
  VC: ['H', 'L', 'N'],
  VI: ['H', 'L', 'N'],
  VA: ['H', 'L', 'N'],
  SC: ['H', 'L', 'N'],
  SI: ['H', 'L', 'N'],
  SA: ['H', 'L', 'N'],
  E: [X, 'A', 'P', 'U'],
  CR: [X, 'H', 'M', 'L'],
  IR: [X, 'H', 'M', 'L'],
  AR: [X, 'H', 'M', 'L'],
  MAV: [X, 'N', 'A', 'L', 'P'],
  MAC: [X, 'L', 'H'],
  MAT: [X, 'N', 'P'],
  MPR: [X, 'N', 'L', 'H'],
  MUI: [X, 'N', 'P', 'A'],
  MVC: [X, 'H', 'L', 'N'],
  MVI: [X, 'H', 'L', 'N'],
  MVA: [X, 'H', 'L', 'N'],
  MSC: [X, 'H', 'L', 'N'],
  MSI: [X, 'S', 'H', 'L', 'N'],
  MSA: [X, 'S', 'H', 'L', 'N'],
  S: [X, 'N', 'P'],
  AU: [X, 'N', 'Y'],
  R: [X, 'A', 'U', 'I'],
  V: [X, 'D', 'C'],
  RE: [X, 'L', 'M', 'H'],
  U: [X, 'Clear', 'Green', 'Amber', 'Red'],
};
const BASE = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'];

/** Severity levels per metric in 0.1 steps (0 = most severe), as in the reference calculator. */
const LEVELS: Record<string, Record<string, number>> = {
  AV: { N: 0.0, A: 0.1, L: 0.2, P: 0.3 },
  PR: { N: 0.0, L: 0.1, H: 0.2 },
  UI: { N: 0.0, P: 0.1, A: 0.2 },
  AC: { L: 0.0, H: 0.1 },
  AT: { N: 0.0, P: 0.1 },
  VC: { H: 0.0, L: 0.1, N: 0.2 },
  VI: { H: 0.0, L: 0.1, N: 0.2 },
  VA: { H: 0.0, L: 0.1, N: 0.2 },
  SC: { H: 0.1, L: 0.2, N: 0.3 },
  SI: { S: 0.0, H: 0.1, L: 0.2, N: 0.3 },
  SA: { S: 0.0, H: 0.1, L: 0.2, N: 0.3 },
  CR: { H: 0.0, M: 0.1, L: 0.2 },
  IR: { H: 0.0, M: 0.1, L: 0.2 },
  AR: { H: 0.0, M: 0.1, L: 0.2 },
};
const DISTANCE_METRICS = ['AV', 'PR', 'UI', 'AC', 'AT', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA', 'CR', 'IR', 'AR'] as const;

type Metrics = ReadonlyMap<string, string>;

/** The effective value of a metric: modified (M*) values override base ones; unreported E is A, CR/IR/AR are H. */
function effective(metrics: Metrics, metric: string): string {
  const selected = metrics.get(metric) ?? X;
  if (metric === 'E' && selected === X) return 'A';
  if ((metric === 'CR' || metric === 'IR' || metric === 'AR') && selected === X) return 'H';
  const modified = metrics.get(`M${metric}`);
  if (modified !== undefined && modified !== X) return modified;
  return selected;
}

function macroVector(metrics: Metrics): [number, number, number, number, number, number] {
  const m = (k: string) => effective(metrics, k);
  const [av, pr, ui] = [m('AV'), m('PR'), m('UI')];
  let eq1: number;
  if (av === 'N' && pr === 'N' && ui === 'N') eq1 = 0;
  else if ((av === 'N' || pr === 'N' || ui === 'N') && av !== 'P') eq1 = 1;
  else eq1 = 2;
  const eq2 = m('AC') === 'L' && m('AT') === 'N' ? 0 : 1;
  const [vc, vi, va] = [m('VC'), m('VI'), m('VA')];
  let eq3: number;
  if (vc === 'H' && vi === 'H') eq3 = 0;
  else if (vc === 'H' || vi === 'H' || va === 'H') eq3 = 1;
  else eq3 = 2;
  let eq4: number;
  if (m('MSI') === 'S' || m('MSA') === 'S') eq4 = 0;
  else if (m('SC') === 'H' || m('SI') === 'H' || m('SA') === 'H') eq4 = 1;
  else eq4 = 2;
  const e = m('E');
  const eq5 = e === 'A' ? 0 : e === 'P' ? 1 : 2;
  const eq6 =
    (m('CR') === 'H' && vc === 'H') || (m('IR') === 'H' && vi === 'H') || (m('AR') === 'H' && va === 'H') ? 0 : 1;
  return [eq1, eq2, eq3, eq4, eq5, eq6];
}

function lookup(eqs: readonly number[]): number | undefined {
  return MACROVECTOR_SCORES[eqs.join('')];
}

function parseValues(composed: string): Map<string, string> {
  return new Map(composed.split('/').map((kv) => kv.split(':') as [string, string]));
}

const maxVectorCache = new Map<string, Map<string, string>[]>();

/** Every combination of the EQs' highest-severity vectors for one MacroVector (computed once per MacroVector). */
function maxVectorsFor(eq1: number, eq2: number, eq3: number, eq4: number, eq5: number, eq6: number) {
  const key = `${eq1}${eq2}${eq3}${eq4}${eq5}${eq6}`;
  let out = maxVectorCache.get(key);
  if (out) return out;
  out = [];
  for (const a of MAX_COMPOSED.eq1[eq1]!)
    for (const b of MAX_COMPOSED.eq2[eq2]!)
      for (const c of MAX_COMPOSED.eq3[eq3]![eq6]!)
        for (const d of MAX_COMPOSED.eq4[eq4]!)
          for (const e of MAX_COMPOSED.eq5[eq5]!) out.push(parseValues(`${a}/${b}/${c}/${d}/${e}`));
  maxVectorCache.set(key, out);
  return out;
}

/** Score of the vector's MacroVector minus the mean proportional distance, rounded to one decimal. */
function score(metrics: Metrics): number {
  if (['VC', 'VI', 'VA', 'SC', 'SI', 'SA'].every((k) => effective(metrics, k) === 'N')) return 0;
  const eqs = macroVector(metrics);
  const [eq1, eq2, eq3, eq4, eq5, eq6] = eqs;
  let value = lookup(eqs);
  if (value === undefined) return 0;

  const lower = (i: number, by = 1): number[] => eqs.map((v, j) => (j === i ? v + by : v));
  const scoreEq1 = lookup(lower(0));
  const scoreEq2 = lookup(lower(1));
  let scoreEq3eq6: number | undefined;
  if (eq3 === 0 && eq6 === 0) {
    // two ways down: take the higher-scoring one (a missing one never wins, as in the reference)
    const left = lookup(lower(5));
    const right = lookup(lower(2));
    scoreEq3eq6 = left !== undefined && right !== undefined && left > right ? left : right;
  } else if (eq3 === 1 && eq6 === 0) {
    scoreEq3eq6 = lookup(lower(5));
  } else if (eq3 === 2 && eq6 === 1) {
    scoreEq3eq6 = undefined;
  } else {
    scoreEq3eq6 = lookup(lower(2));
  }
  const scoreEq4 = lookup(lower(3));
  const scoreEq5 = lookup(lower(4));

  // find the first highest-severity vector of this MacroVector that the vector is not more severe than
  const maxVectors = maxVectorsFor(eq1, eq2, eq3, eq4, eq5, eq6);
  let distance: Record<string, number> = {};
  for (const max of maxVectors) {
    distance = {};
    for (const k of DISTANCE_METRICS) {
      distance[k] = LEVELS[k]![effective(metrics, k)]! - LEVELS[k]![max.get(k)!]!;
    }
    // the reference keeps the last candidate's distances when none fits; so does this loop
    if (!DISTANCE_METRICS.some((k) => distance[k]! < 0)) break;
  }
  const d = (k: string) => distance[k]!;
  const current = {
    eq1: d('AV') + d('PR') + d('UI'),
    eq2: d('AC') + d('AT'),
    eq3eq6: d('VC') + d('VI') + d('VA') + d('CR') + d('IR') + d('AR'),
    eq4: d('SC') + d('SI') + d('SA'),
  };
  const step = 0.1;
  const depth = {
    eq1: MAX_SEVERITY.eq1[eq1]! * step,
    eq2: MAX_SEVERITY.eq2[eq2]! * step,
    eq3eq6: (MAX_SEVERITY.eq3eq6[eq3]![eq6] ?? Number.NaN) * step,
    eq4: MAX_SEVERITY.eq4[eq4]! * step,
  };

  let existing = 0;
  let sum = 0;
  const add = (lowerScore: number | undefined, distanceNow: number, eqDepth: number) => {
    if (lowerScore === undefined) return;
    existing++;
    sum += (value! - lowerScore) * (distanceNow / eqDepth);
  };
  add(scoreEq1, current.eq1, depth.eq1);
  add(scoreEq2, current.eq2, depth.eq2);
  add(scoreEq3eq6, current.eq3eq6, depth.eq3eq6);
  add(scoreEq4, current.eq4, depth.eq4);
  // EQ5 has no depth: it counts towards the mean with a proportion of 0
  if (scoreEq5 !== undefined) existing++;

  const mean = existing === 0 ? 0 : sum / existing;
  value -= mean;
  if (value < 0) value = 0;
  if (value > 10) value = 10;
  // binary floating point, exactly as the reference calculator: its half-way cases (x.x5) can land just below
  return Math.round(value * 10) / 10;
}

/** `CVSS:4.0/…` → score, or undefined if the vector is not a valid v4.0 vector. */
export function cvss4Score(vector: string): number | undefined {
  if (!vector.startsWith('CVSS:4.0/')) return undefined;
  const metrics = parseMetrics(vector.slice('CVSS:4.0/'.length), ALLOWED, BASE);
  return metrics ? score(metrics) : undefined;
}
