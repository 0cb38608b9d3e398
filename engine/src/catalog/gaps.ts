import type { CoverageGap } from '../model/report.js';
import type { ScanWarning } from '../model/warning.js';

/**
 * Catalog gaps: what a cataloger could not read, so that a failure never makes an image look cleaner. A cataloger's
 * warning is a gap unless the cataloger marked it a note (`CatalogResult.notes`: nothing was left unread, e.g. a
 * duplicate record dropped or a field ignored); a cataloger that throws is a gap for everything it covers; the walk's
 * skipped or unreadable files are gaps of the catalogers that wanted them. docs/report.md lists the kinds.
 */

/** The message a gap carries when more warnings than one fell on the same cataloger and file. */
function withMore(first: string, more: number): string {
  return more === 0 ? first : `${first} (and ${more} more)`;
}

/**
 * One gap per cataloger and file, however many records of it were skipped: 150k junk records make one line that
 * counts them, not 150k gaps.
 */
export function gapsOf(warnings: readonly ScanWarning[], isNote: (w: ScanWarning) => boolean): CoverageGap[] {
  const byFile = new Map<string, { first: ScanWarning; more: number }>();
  for (const warning of warnings) {
    if (isNote(warning)) continue;
    const key = `${warning.cataloger}\0${warning.path ?? ''}`;
    const seen = byFile.get(key);
    if (seen) seen.more++;
    else byFile.set(key, { first: warning, more: 0 });
  }
  return [...byFile.values()].map(({ first, more }) => catalogGap(first.cataloger, first.message, first.path, more));
}

export function catalogGap(scope: string, message: string, path?: string, more = 0): CoverageGap {
  const text = withMore(message, more);
  return path === undefined
    ? { kind: 'catalog-incomplete', scope, message: text }
    : { kind: 'catalog-incomplete', scope, path, message: text };
}

/**
 * The walk's warnings that mean a wanted file was not read: over the file limit (`skipped: …`) or unreadable. A link
 * dropped for pointing outside the root is not one (its target is not part of the image).
 */
export function isWalkGap(warning: ScanWarning): boolean {
  return warning.cataloger === 'image' && /^(skipped|unreadable)\b/.test(warning.message);
}
