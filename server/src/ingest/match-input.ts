// What the CLI's matcher reads of a package and of its image, kept in the database at ingest (migration 0010) so
// that re-analysis can match a stored package again from its row instead of reading every image's inventory back
// from the blob store (docs/performance.md, "Server: re-analysis"). The matcher reads a package's type, purl, name
// and version (columns of `packages`), its source package and its metadata (`match_extra`), and the image's OS
// release (`images.match_os`): engine/src/match (package-query.ts, match-inventory.ts). A row stands for every image
// holding its purl, so when two inventories disagree on the extra part the row is marked ambiguous and re-analysis
// reads those images' inventories, as it does for rows written before 0010.
import type { OsInfo, Package, PackageFound } from '@lading/engine/model';

/** `packages.match_extra` of a purl whose inventories disagreed on source or metadata. */
export const AMBIGUOUS_MATCH_EXTRA = '*';

interface MatchExtra {
  readonly s: { name: string; version?: string } | null;
  readonly m: Record<string, string> | null;
}

/** The canonical `match_extra` of a package: its source and its metadata (keys sorted), or null for each. */
export function matchExtraOf(p: Pick<PackageFound, 'source' | 'metadata'>): string {
  const source = p.source
    ? p.source.version === undefined
      ? { name: p.source.name }
      : { name: p.source.name, version: p.source.version }
    : null;
  let metadata: Record<string, string> | null = null;
  if (p.metadata && Object.keys(p.metadata).length > 0) {
    metadata = {};
    for (const key of Object.keys(p.metadata).sort()) metadata[key] = p.metadata[key] as string;
  }
  const extra: MatchExtra = { s: source, m: metadata };
  return JSON.stringify(extra);
}

/**
 * One `match_extra` per purl of an inventory: the first package's, or ambiguous when another package with the same
 * purl (the same library at two paths, say) carries a different source or metadata.
 */
export function matchExtrasByPurl(
  packages: readonly Pick<PackageFound, 'purl' | 'source' | 'metadata'>[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of packages) {
    const extra = matchExtraOf(p);
    const known = out.get(p.purl);
    if (known === undefined) out.set(p.purl, extra);
    else if (known !== extra) out.set(p.purl, AMBIGUOUS_MATCH_EXTRA);
  }
  return out;
}

/** `images.match_os`: the OS release fields the matcher reads, or the JSON `null` when the inventory named none. */
export function matchOsOf(os: OsInfo | undefined): string {
  if (!os) return 'null';
  return JSON.stringify(
    os.ecosystem === undefined
      ? { family: os.family, version: os.version }
      : { family: os.family, version: os.version, ecosystem: os.ecosystem },
  );
}

/** The OS release back from `images.match_os` (undefined for none); throws on a value this code did not write. */
export function osFromMatchOs(text: string): OsInfo | undefined {
  const parsed = JSON.parse(text) as unknown;
  if (parsed === null) return undefined;
  if (typeof parsed !== 'object' || typeof (parsed as OsInfo).family !== 'string')
    throw new Error(`images.match_os is not an OS release: ${text.slice(0, 80)}`);
  const { family, version, ecosystem } = parsed as OsInfo;
  return ecosystem === undefined ? { family, version } : { family, version, ecosystem };
}

/** A stored package as the matcher sees it: the row's columns and its `match_extra` (not ambiguous). */
export function packageFromRow(
  id: string,
  row: { purl: string; type: string; name: string; version: string },
  matchExtra: string,
): Package {
  const extra = JSON.parse(matchExtra) as MatchExtra;
  const pkg: Package = {
    id,
    purl: row.purl,
    type: row.type as Package['type'],
    name: row.name,
    version: row.version,
    licenses: [],
    locations: [],
    foundBy: 'lading-server',
  };
  if (extra.s) pkg.source = extra.s.version === undefined ? { name: extra.s.name } : { ...extra.s };
  if (extra.m) pkg.metadata = { ...extra.m };
  return pkg;
}

/** The OS release fields the matcher reads of an inventory's OS (as `osFromMatchOs(matchOsOf(os))`). */
export function matchedOs(os: OsInfo | undefined): OsInfo | undefined {
  return os ? osFromMatchOs(matchOsOf(os)) : undefined;
}
