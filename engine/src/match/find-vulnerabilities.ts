import { LadingError } from '../errors/lading-error.js';
import type { Finding } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import type { DbInfo } from '../model/report.js';
import { type ScanWarning, scanWarning } from '../model/warning.js';
import { compareVersions, evaluateAffected } from '../versions/index.js';
import { VulnStoreReader } from '../vulndb/reader.js';
import { scoreVector } from './cvss-scorer.js';
import { type MatchRules, matchInventory, neededEcosystems } from './match-inventory.js';

export interface MatchOptions {
  now: Date;
  /** The per-ecosystem version rules and CVSS scorer; MATCH_RULES unless a test or benchmark swaps them. */
  rules?: MatchRules;
}

export interface VulnerabilityOptions {
  dbDir: string;
  /** Never reach the network (no automatic update). */
  offline: boolean;
  now: Date;
  /**
   * Told which OSV ecosystems (base names) the inventory needs, before the store is opened, even when it then
   * turns out to hold no data: the CLI notes them so a bare `lading db update` fetches them (needed.ts).
   */
  onNeededEcosystems?: (names: string[]) => void;
}

export interface VulnerabilityResult {
  findings: Finding[];
  warnings: ScanWarning[];
  db: DbInfo;
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
 * NO_DB (exit 3) when the store holds data for none of the ecosystems the inventory needs.
 */
export function matchVulnerabilities(
  inventory: Inventory,
  store: VulnStoreReader,
  options: MatchOptions,
): VulnerabilityResult {
  const rules = options.rules ?? MATCH_RULES;
  const needed = neededEcosystems(inventory);
  if (needed.size === 0) return matchNothing(inventory, rules);
  return store.snapshot(() => matchWithStore(inventory, store, needed, options.now, rules));
}

/** Opens the store in `dbDir` read-only, matches every package, closes it. Throws NO_DB when there is no data. */
export async function findVulnerabilities(
  inventory: Inventory,
  options: VulnerabilityOptions,
): Promise<VulnerabilityResult> {
  const needed = neededEcosystems(inventory);
  if (needed.size === 0) return matchNothing(inventory, MATCH_RULES);
  options.onNeededEcosystems?.([...needed].sort());
  const store = VulnStoreReader.open(options.dbDir);
  if (!store) throw noData(needed, options.dbDir);
  try {
    return store.snapshot(() => matchWithStore(inventory, store, needed, options.now, MATCH_RULES, options.dbDir));
  } finally {
    store.close();
  }
}

function matchNothing(inventory: Inventory, rules: MatchRules): VulnerabilityResult {
  const { warnings } = matchInventory(inventory, EMPTY_SOURCE, rules);
  return { findings: [], warnings, db: { ecosystems: {} } };
}

function matchWithStore(
  inventory: Inventory,
  store: VulnStoreReader,
  needed: Set<string>,
  now: Date,
  rules: MatchRules,
  dirLabel: string = store.dir,
): VulnerabilityResult {
  const warnings: ScanWarning[] = [];
  const db: DbInfo = { ecosystems: {} };
  const missing: string[] = [];
  for (const name of [...needed].sort()) {
    const state = store.ecosystem(name);
    if (!state?.records || !state.updatedAt) {
      missing.push(name);
      continue;
    }
    db.ecosystems[name] = state.updatedAt;
    if (!db.builtAt || state.updatedAt < db.builtAt) db.builtAt = state.updatedAt;
    if (now.getTime() - Date.parse(state.updatedAt) > STALE_MS) {
      warnings.push(
        scanWarning(
          'vulndb',
          `${name} vulnerability data is from ${state.updatedAt}, more than a week old: run \`lading db update\``,
        ),
      );
    }
  }
  if (missing.length === needed.size) throw noData(needed, dirLabel);
  for (const name of missing) {
    warnings.push(
      scanWarning(
        'vulndb',
        `no vulnerability data for ${name}: its packages were not checked (run \`lading db update --ecosystem ${name}\`)`,
      ),
    );
  }
  const result = matchInventory(inventory, store, rules);
  return { findings: result.findings, warnings: [...warnings, ...result.warnings], db };
}

function noData(needed: Set<string>, dir: string): LadingError {
  const names = [...needed].sort();
  return new LadingError(
    'NO_DB',
    `no vulnerability data for ${names.join(', ')} in ${dir}: run \`lading db update\` (or \`lading db import\` offline), or use the sbomOnly option`,
    { option: 'sbomOnly' },
  );
}
