import { LadingError } from '../errors/lading-error.js';
import type { Finding } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import type { CoverageGap, DbInfo } from '../model/report.js';
import { type ScanWarning, scanWarning } from '../model/warning.js';
import { compareVersions, evaluateAffected } from '../versions/index.js';
import { releaseCoverage } from '../vulndb/coverage.js';
import { baseEcosystem } from '../vulndb/names.js';
import { VulnStoreReader } from '../vulndb/reader.js';
import { scoreVector } from './cvss-scorer.js';
import {
  type MatchRules,
  matchInventory,
  NO_OS_RELEASE,
  neededEcosystems,
  neededReleases,
  unidentifiedOsPackages,
} from './match-inventory.js';

export interface MatchOptions {
  now: Date;
  /** The per-ecosystem version rules and CVSS scorer; MATCH_RULES unless a test or benchmark swaps them. */
  rules?: MatchRules;
  /**
   * Match what there is data for and report the rest as coverage gaps, instead of throwing NO_DB when a release or
   * ecosystem the inventory needs has no data.
   */
  allowMissingData?: boolean;
  /**
   * What the target lacked when it names no OS, for the coverage gap's scope (`os: unknown (REASON)`): `no
   * os-release` (the default, for images and file systems); an SBOM's caller says what the SBOM lacked.
   */
  unknownOsReason?: string;
}

export interface VulnerabilityOptions {
  dbDir: string;
  /** Never reach the network (no automatic update). */
  offline: boolean;
  now: Date;
  /** See MatchOptions.allowMissingData. */
  allowMissingData?: boolean;
  /** See MatchOptions.unknownOsReason. */
  unknownOsReason?: string;
  /**
   * Told which OSV ecosystems (base names) the inventory needs, before the store is opened, even when it then
   * turns out to hold no data: the CLI notes them so a bare `lading db update` fetches them (needed.ts).
   */
  onNeededEcosystems?: (names: string[]) => void;
  /**
   * Awaited before the store is opened, with the releases and ecosystems the inventory needs (`Debian:12`, `npm`):
   * where a front end fetches data that is missing or old (the CLI's automatic update). Not called when offline.
   */
  prepareData?: (releases: string[]) => Promise<void>;
}

export interface VulnerabilityResult {
  findings: Finding[];
  warnings: ScanWarning[];
  db: DbInfo;
  /**
   * Releases and ecosystems there was no data for, and OS packages of a release no OSV ecosystem is known for, with
   * the packages left unchecked (only with allowMissingData).
   */
  gaps: CoverageGap[];
}

/** Data older than this earns a warning in the report. */
const STALE_MS = 7 * 24 * 3600 * 1000;

/** Feeds repeat vectors across thousands of records: score each distinct vector once per process. */
const vectorScores = new Map<string, number | undefined>();
const VECTOR_CACHE_LIMIT = 100_000;

function cachedScoreVector(vector: string): number | undefined {
  if (vectorScores.has(vector)) return vectorScores.get(vector);
  const score = scoreVector(vector);
  if (vectorScores.size >= VECTOR_CACHE_LIMIT) vectorScores.clear();
  vectorScores.set(vector, score);
  return score;
}

/** The rules matching applies: each ecosystem's version ordering, OSV range evaluation, CVSS scoring. */
export const MATCH_RULES: MatchRules = Object.freeze({
  compare: compareVersions,
  evaluate: evaluateAffected,
  scoreVector: cachedScoreVector,
});

const EMPTY_SOURCE = { candidatesFor: () => [], kev: () => undefined, epss: () => undefined };

/**
 * Matches an inventory against an open store, in one snapshot of it (a commit by another process meanwhile is
 * seen whole by the next call, never half). The store stays open: a server keeps one reader for hours. Throws
 * NO_DB (exit 3) when the store holds no data for a release or ecosystem the inventory needs (releaseCoverage), or
 * when OS packages belong to a release no OSV ecosystem is known for, unless allowMissingData, which reports those
 * as gaps instead.
 */
export function matchVulnerabilities(
  inventory: Inventory,
  store: VulnStoreReader,
  options: MatchOptions,
): VulnerabilityResult {
  const rules = options.rules ?? MATCH_RULES;
  const unidentified = unidentifiedGaps(inventory, options.unknownOsReason);
  const allow = options.allowMissingData === true;
  const needed = neededReleases(inventory);
  if (needed.size === 0) return matchNothing(inventory, rules, unidentified, allow, store.dir);
  return store.snapshot(() => matchWithStore(inventory, store, needed, unidentified, options.now, rules, allow));
}

/** Opens the store in `dbDir` read-only, matches every package, closes it. Throws NO_DB when data is missing. */
export async function findVulnerabilities(
  inventory: Inventory,
  options: VulnerabilityOptions,
): Promise<VulnerabilityResult> {
  const unidentified = unidentifiedGaps(inventory, options.unknownOsReason);
  const allow = options.allowMissingData === true;
  const needed = neededReleases(inventory);
  if (needed.size === 0) return matchNothing(inventory, MATCH_RULES, unidentified, allow, options.dbDir);
  options.onNeededEcosystems?.([...neededEcosystems(inventory)].sort());
  if (!options.offline && options.prepareData) await options.prepareData([...needed.keys()]);
  const store = VulnStoreReader.open(options.dbDir);
  if (!store) {
    const gaps = [...unidentified, ...[...needed].map(([scope, ids]) => noDataGap(scope, ids))];
    if (!allow) throw noData(gaps, options.dbDir);
    return { ...matchNothing(inventory, MATCH_RULES, [], true, options.dbDir), gaps };
  }
  try {
    return store.snapshot(() =>
      matchWithStore(inventory, store, needed, unidentified, options.now, MATCH_RULES, allow, options.dbDir),
    );
  } finally {
    store.close();
  }
}

/** No package has an ecosystem to look up: nothing to open, but OS packages of an unknown release are still gaps. */
function matchNothing(
  inventory: Inventory,
  rules: MatchRules,
  unidentified: CoverageGap[],
  allowMissingData: boolean,
  dirLabel: string,
): VulnerabilityResult {
  if (unidentified.length > 0 && !allowMissingData) throw noData(unidentified, dirLabel);
  const { warnings } = matchInventory(inventory, EMPTY_SOURCE, rules);
  return { findings: [], warnings, db: { ecosystems: {} }, gaps: unidentified };
}

/** The OS packages without an OSV ecosystem as a `no-data` gap: not checked, so never reported clean. */
function unidentifiedGaps(inventory: Inventory, unknownOsReason: string = NO_OS_RELEASE): CoverageGap[] {
  const unidentified = unidentifiedOsPackages(inventory, unknownOsReason);
  if (!unidentified) return [];
  return [
    {
      kind: 'no-data',
      scope: unidentified.scope,
      message: UNIDENTIFIED_MESSAGE,
      packageIds: unidentified.packageIds,
    },
  ];
}

/** Not a data problem `db update` could solve: no advisory source names the release. */
const UNIDENTIFIED_MESSAGE = 'no OSV ecosystem known for this operating system release';

function matchWithStore(
  inventory: Inventory,
  store: VulnStoreReader,
  needed: Map<string, string[]>,
  unidentified: CoverageGap[],
  now: Date,
  rules: MatchRules,
  allowMissingData: boolean,
  dirLabel: string = store.dir,
): VulnerabilityResult {
  const warnings: ScanWarning[] = [];
  const db: DbInfo = { ecosystems: {} };
  const gaps: CoverageGap[] = [...unidentified];
  for (const [scope, packageIds] of needed) {
    const coverage = releaseCoverage(store, scope);
    if (!coverage.covered || !coverage.updatedAt) {
      gaps.push(noDataGap(scope, packageIds));
      continue;
    }
    const name = baseEcosystem(scope);
    if (db.ecosystems[name]) continue;
    db.ecosystems[name] = coverage.updatedAt;
    if (!db.builtAt || coverage.updatedAt < db.builtAt) db.builtAt = coverage.updatedAt;
    if (now.getTime() - Date.parse(coverage.updatedAt) > STALE_MS) {
      warnings.push(
        scanWarning(
          'vulndb',
          `${name} vulnerability data is from ${coverage.updatedAt}, more than a week old: run \`lading db update\``,
        ),
      );
    }
  }
  if (gaps.length > 0 && !allowMissingData) throw noData(gaps, dirLabel);
  const result = matchInventory(inventory, store, rules);
  return { findings: result.findings, warnings: [...warnings, ...result.warnings], db, gaps };
}

function noDataGap(scope: string, packageIds: string[]): CoverageGap {
  return { kind: 'no-data', scope, message: 'no vulnerability data', packageIds: [...packageIds] };
}

/**
 * `no vulnerability data for Debian:12 (142 packages) in DIR; run …, or pass the allowMissingData option`; OS
 * packages of an unknown release first (`no OSV ecosystem known for os: gentoo 2.14 (3 packages)`): no update
 * brings data for those, so no command is suggested for them.
 */
function noData(gaps: CoverageGap[], dir: string): LadingError {
  const counted = (g: CoverageGap) => {
    const count = g.packageIds?.length ?? 0;
    return `${g.scope} (${count} ${count === 1 ? 'package' : 'packages'})`;
  };
  const unidentified = gaps.filter((g) => g.message === UNIDENTIFIED_MESSAGE);
  const missing = gaps.filter((g) => g.message !== UNIDENTIFIED_MESSAGE);
  const parts: string[] = [];
  if (unidentified.length > 0) {
    parts.push(`no OSV ecosystem known for ${unidentified.map(counted).join(', ')}: those packages cannot be checked`);
  }
  if (missing.length > 0) {
    const flags = missing.map((g) => `--ecosystem ${quoteArg(g.scope)}`).join(' ');
    parts.push(
      `no vulnerability data for ${missing.map(counted).join(', ')} in ${dir}; run \`lading db update ${flags}\` (or \`lading db import\` offline)`,
    );
  }
  return new LadingError(
    'NO_DB',
    `${parts.join('; ')}${missing.length > 0 ? ', or' : ';'} pass the allowMissingData option to report those packages as unchecked`,
    { option: 'allowMissingData' },
  );
}

/** `Red Hat:enterprise_linux:9` has a space: quoted so the command can be pasted. */
function quoteArg(value: string): string {
  return /^[A-Za-z0-9._:@/+-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}
