import { LadingError } from '../errors/lading-error.js';
import type { OsvAffected } from '../model/osv.js';

/**
 * The versions/ API the rest of Lading uses (implemented per scheme in this folder).
 * `ecosystem` is the OSV ecosystem name, with or without its release suffix (`Debian:12`, `Alpine:v3.19`).
 */
export function compareVersions(ecosystem: string, a: string, b: string): -1 | 0 | 1 {
  throw new LadingError('INVALID_VERSION', `version comparison for ${ecosystem} is not implemented yet (${a}, ${b})`);
}

export interface AffectedVerdict {
  affected: boolean;
  /** The `fixed` events of the ranges that matched or apply to this version's branch. */
  fixedVersions: string[];
}

/** Evaluates an OSV `affected` entry (ranges and `versions[]`) for one installed version. */
export function evaluateAffected(affected: OsvAffected, version: string): AffectedVerdict {
  throw new LadingError(
    'INVALID_VERSION',
    `OSV range evaluation is not implemented yet (${affected.package?.name}@${version})`,
  );
}
