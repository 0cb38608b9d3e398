import { LadingError } from '../errors/lading-error.js';
import type { Finding } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import type { DbInfo } from '../model/report.js';
import type { ScanWarning } from '../model/warning.js';
import { compareVersions, evaluateAffected } from '../versions/index.js';
import { NewerSchemaError } from '../vulndb/schema.js';
import { VulnStore } from '../vulndb/store.js';
import { scoreVector } from './cvss-scorer.js';
import { matchInventory, neededEcosystems } from './match-inventory.js';

export interface VulnerabilityOptions {
  dbDir: string;
  /** Never reach the network (no automatic update). */
  offline: boolean;
  now: Date;
}

export interface VulnerabilityResult {
  findings: Finding[];
  warnings: ScanWarning[];
  db: DbInfo;
}

/** Data older than this earns a warning in the report. */
const STALE_MS = 7 * 24 * 3600 * 1000;

/** Opens the local store, matches every package, closes it. Throws NO_DB (exit 3) when there is no data. */
export async function findVulnerabilities(
  inventory: Inventory,
  options: VulnerabilityOptions,
): Promise<VulnerabilityResult> {
  const needed = neededEcosystems(inventory);
  if (needed.size === 0) {
    const { warnings } = matchInventory(inventory, EMPTY_SOURCE, RULES);
    return { findings: [], warnings, db: { ecosystems: {} } };
  }
  rememberNeeded(options.dbDir, needed, options.now);
  const store = VulnStore.openReadOnly(options.dbDir);
  if (!store) throw noData(needed, options.dbDir);
  try {
    return store.snapshot(() => matchWithStore(inventory, store, needed, options));
  } finally {
    store.close();
  }
}

function matchWithStore(
  inventory: Inventory,
  store: VulnStore,
  needed: Set<string>,
  options: VulnerabilityOptions,
): VulnerabilityResult {
  {
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
      if (options.now.getTime() - Date.parse(state.updatedAt) > STALE_MS) {
        warnings.push({
          cataloger: 'vulndb',
          message: `${name} vulnerability data is from ${state.updatedAt}, more than a week old: run \`lading db update\``,
        });
      }
    }
    if (missing.length === needed.size) throw noData(needed, options.dbDir);
    for (const name of missing) {
      warnings.push({
        cataloger: 'vulndb',
        message: `no vulnerability data for ${name}: its packages were not checked (run \`lading db update --ecosystem ${name}\`)`,
      });
    }
    const result = matchInventory(inventory, store, RULES);
    return { findings: result.findings, warnings: [...warnings, ...result.warnings], db };
  }
}

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

const RULES = { compare: compareVersions, evaluate: evaluateAffected, scoreVector: cachedScoreVector };

const EMPTY_SOURCE = { candidatesFor: () => [], kev: () => undefined, epss: () => undefined };

/**
 * Remembers which ecosystems scans needed, so a bare `lading db update` fetches them. Best effort: a read-only
 * database folder must not stop a scan, but a database from a newer Lading must (nothing can be read from it).
 */
function rememberNeeded(dir: string, needed: Set<string>, now: Date): void {
  let store: VulnStore | undefined;
  try {
    // a running `db update` holds the write lock for seconds: skip the bookkeeping rather than wait for it;
    // an older layout is not upgraded here (it takes a while): the read-only open then says what to run
    store = VulnStore.openForWrite(dir, { busyTimeoutMs: 100, upgrade: false });
    store.markNeeded(needed, now);
  } catch (err) {
    if (err instanceof NewerSchemaError) throw err;
  } finally {
    store?.close();
  }
}

function noData(needed: Set<string>, dir: string): LadingError {
  const names = [...needed].sort();
  return new LadingError(
    'NO_DB',
    `no vulnerability data for ${names.join(', ')} in ${dir}: run \`lading db update\` (or \`lading db import\` offline), or use --sbom-only`,
  );
}
