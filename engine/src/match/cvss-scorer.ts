import { cvssBaseScore } from './cvss/index.js';
import type { VectorScorer } from './severity.js';

/** The CVSS base-score computation in `./cvss/` (v2, v3.0, v3.1, v4.0), in the matcher's scorer shape. */
export const scoreVector: VectorScorer = cvssBaseScore;
