import { LadingError } from '../../errors/lading-error.js';
import type { InflateAccount } from '../open.js';

/** Total bytes an image's layers, and the archives nested in its files, may inflate to by default. */
export const DEFAULT_MAX_INFLATED_BYTES = 16 * 1024 ** 3;

/** The walk's decompression-bomb budget: bytes still allowed out of `max` (the user's limit). */
export interface InflateBudget {
  left: number;
  readonly max: number;
}

/**
 * The same budget as catalogers see it, for the archives nested in the image's files (jars in jars): what they
 * inflate is charged to the layers' account (and to `counts`, so a reused layer scan is charged it again).
 */
export function nestedAccount(
  budget: InflateBudget,
  counts?: { inflated: number },
  what = 'layers and the archives in them',
): InflateAccount {
  return {
    remaining: () => Math.max(0, budget.left),
    take: (n: number) => {
      if (counts) counts.inflated += n;
      budget.left -= n;
      if (budget.left < 0) {
        throw new LadingError('LIMIT', `${what} inflate past the ${budget.max}-byte limit`);
      }
    },
  };
}
