import { layerScanScope, ResultCache, type ResultCacheOptions, resultCacheKey } from '../cache/result-cache.js';
import { type CatalogLimits, DEFAULT_LIMITS } from '../catalog/cataloger.js';
import { CATALOGERS } from '../catalog/registry.js';
import { runCatalogers } from '../catalog/run.js';
import { selectorFor } from '../catalog/selector.js';
import { CHECK_CATALOGERS, runImageChecks } from '../checks/index.js';
import { throwIfAborted } from '../errors/abort.js';
import { type OpenOptions, openTarget } from '../image/open.js';
import { sbomTargetPath } from '../image/target-spec.js';
import type { Finding } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import type { CoverageGap, DbInfo, Report } from '../model/report.js';
import type { TargetInfo } from '../model/target.js';
import type { ScanWarning } from '../model/warning.js';
import { type FindingFilters, filterFindings } from '../policy/filters.js';
import { buildReport } from '../report/build.js';
import { type SecretScanOptions, secretFindings, secretInspector, secretsSelection } from '../secrets/findings.js';

export interface InventoryOptions extends OpenOptions {
  /** Total bytes all layers may inflate to (`WalkOptions.maxInflatedBytes`, a decompression-bomb cap). */
  maxInflatedBytes?: number;
  /** Largest `sbom:` file read (default `DEFAULT_MAX_SBOM_BYTES`, 128 MiB). */
  maxSbomBytes?: number;
  /**
   * Largest file a cataloger condenses (a 100 MiB Go binary is condensed to its build info): default 512 MiB.
   * `scan()` sets it to the `limits.maxFileBytes` its caller chose, so that a chosen cap is never exceeded.
   */
  maxCondenseBytes?: number;
  /**
   * Keep and reuse catalog results of images named wholly by verified digests (cache/): a hit skips the walk and
   * the catalogers and gives the same inventory. On a miss, layers another image shared are not read again (their
   * scans are kept too); the squash and the catalogers run. Never used for `dir:` roots, SBOMs or compressed
   * archives.
   */
  cache?: ResultCacheOptions;
  /**
   * Run the image checks (`checks/`, the report's `misconfigurations`): their cataloger joins the walk. Default
   * true; false walks exactly as before they existed (the CLI's --no-checks).
   */
  checks?: boolean;
  /**
   * Scan every layer's files for secrets (`secrets/`, the report's `secrets`) in the same walk: a secret deleted by a
   * later layer is still found. Default true for `scan` (false walks exactly as before: the CLI's --no-secrets),
   * false for `inventoryOf` (an SBOM has no use for them).
   */
  secrets?: boolean;
  /** Options of the secret scanner (its per-file cap). */
  secretScan?: SecretScanOptions;
}

export interface ScanOptions extends InventoryOptions, FindingFilters {
  /** Catalog only: no vulnerability data needed. */
  sbomOnly?: boolean;
  dbDir: string;
  limits?: Partial<CatalogLimits>;
  /**
   * The moment the scan is for: the report's date, the data-age checks and the end-of-life verdict. Required: the
   * engine never reads the clock on its own (the CLI reads it once per run).
   */
  now: Date;
  /** Told the OSV ecosystems the inventory needs, before matching (the CLI remembers them for `db update`). */
  onNeededEcosystems?: (names: string[]) => void;
  /**
   * Awaited before matching, with the releases and ecosystems the inventory needs (`Debian:12`, `npm`), unless
   * offline: where a front end downloads data that is missing or old (the CLI's automatic update).
   */
  prepareData?: (releases: string[]) => Promise<void>;
  /**
   * Match what there is data for and list the rest in the report's `coverage` (a gate then never passes), instead
   * of failing with NO_DB when a release or ecosystem the inventory needs has no data.
   */
  allowMissingData?: boolean;
}

/** An SBOM's OS comes from its OS component or its OS purls' `distro` qualifier (sbom/read.ts). */
const SBOM_WITHOUT_OS = 'no OS component or purl distro qualifier in the SBOM';

/** The one composition of the flow (docs/architecture.md): target → walk → inventory → match → report model. */
export async function scan(spec: string, options: ScanOptions): Promise<Report> {
  const { now } = options;
  const limits: CatalogLimits = { ...DEFAULT_LIMITS, ...options.limits };
  // a file cap the caller chose is never exceeded, not even by files a cataloger condenses
  const chosenCap = options.limits?.maxFileBytes;
  const { target, inventory } = await inventoryOf(
    spec,
    {
      ...options,
      secrets: options.secrets !== false,
      ...(chosenCap !== undefined ? { maxCondenseBytes: chosenCap } : {}),
    },
    limits,
  );
  throwIfAborted(options.signal);

  let findings: Finding[] = [];
  const warnings: ScanWarning[] = [];
  let db: DbInfo | undefined;
  const gaps: CoverageGap[] = [];
  if (!options.sbomOnly) {
    // Loaded on demand: SBOM-only runs never load the database driver.
    const { findVulnerabilities } = await import('../match/find-vulnerabilities.js');
    const result = await findVulnerabilities(inventory, {
      dbDir: options.dbDir,
      offline: !!options.offline,
      now,
      ...(options.onNeededEcosystems ? { onNeededEcosystems: options.onNeededEcosystems } : {}),
      ...(options.prepareData ? { prepareData: options.prepareData } : {}),
      allowMissingData: options.allowMissingData === true,
      // what an SBOM lacks when it names no OS; an image or file system lacks its os-release (the default)
      ...(target.kind === 'sbom' ? { unknownOsReason: SBOM_WITHOUT_OS } : {}),
    });
    findings = filterFindings(result.findings, options);
    for (const warning of result.warnings) warnings.push(warning);
    db = result.db;
    for (const gap of result.gaps) gaps.push(gap);
  }
  const parts = { target, inventory, findings, warnings, gaps, createdAt: now };
  const report = buildReport(db ? { ...parts, db } : parts);
  if (options.checks !== false) {
    // From what the walk already gathered (config, tags, noted files): no second read of the layers.
    const misconfigurations = runImageChecks(target, inventory, { now });
    if (misconfigurations.length) report.misconfigurations = misconfigurations;
  }
  if (inventory.secrets?.length) report.secrets = inventory.secrets;
  return report;
}

/** The inventory alone, from an image, a root filesystem or an SBOM. */
export async function inventoryOf(
  spec: string,
  options: InventoryOptions,
  limits: CatalogLimits = DEFAULT_LIMITS,
): Promise<{ target: TargetInfo; inventory: Inventory }> {
  // `sbom:PATH`, or a bare path that is an SBOM by its name or first bytes.
  const sbomPath = await sbomTargetPath(spec);
  if (sbomPath !== undefined) {
    return (await import('../sbom/read.js')).readSbomFile(sbomPath, options.maxSbomBytes);
  }
  const withChecks = options.checks === false ? CATALOGERS : [...CATALOGERS, ...CHECK_CATALOGERS];
  // The secret scanner joins the walk's selection (for the package checksum lists) and its cache keys.
  const secrets = options.secrets === true;
  const catalogers = secrets ? [...withChecks, secretsSelection(options.secretScan)] : withChecks;
  const opened = await openTarget(spec, options);
  try {
    // A compressed archive is described only by the walk the cache would spare: it is never looked up.
    const key =
      options.cache && !opened.describedByWalk
        ? resultCacheKey({
            target: opened.target,
            catalogers,
            limits,
            maxInflatedBytes: options.maxInflatedBytes,
          })
        : undefined;
    const cache = key && options.cache ? new ResultCache(options.cache) : undefined;
    // --verify-diff-ids asks for every layer byte to be read and checked: a stored result would skip that.
    const hit = cache && key && !options.verifyDiffIds ? await cache.get(key) : undefined;
    throwIfAborted(options.signal);
    if (hit) {
      const layers = opened.target.layers.length;
      options.onProgress?.({
        phase: 'cached',
        layersDone: 0,
        layersFromCache: 0,
        layers,
        bytesRead: 0,
        bytesDownloaded: 0,
        bytesToDownload: 0,
      });
      return { target: opened.target, inventory: hit };
    }
    const selector = selectorFor(catalogers);
    if (secrets) selector.inspector = secretInspector(options.secretScan);
    const walked = await opened.walk(selector, {
      maxFileBytes: limits.maxFileBytes,
      ...(options.maxCondenseBytes !== undefined ? { maxCondenseBytes: options.maxCondenseBytes } : {}),
      ...(options.maxInflatedBytes ? { maxInflatedBytes: options.maxInflatedBytes } : {}),
      // Only checked bytes may be stored: layers read in place are hashed as well when a result will be kept.
      // Layer by layer too, so that an image sharing layers with one scanned before reads only its own.
      ...(cache ? { hashInPlace: true, layerCache: cache.layerScans(layerScanScope(catalogers)) } : {}),
    });
    // The walk's warnings come first; the wanted files it skipped are coverage gaps of their catalogers.
    const inventory = await runCatalogers(walked.files, catalogers, limits, walked.warnings, walked.inflate);
    if (secrets && walked.inspected) {
      const found = secretFindings(walked.inspected, walked.files);
      if (found.length) inventory.secrets = found;
    }
    throwIfAborted(options.signal);
    if (cache && key && walked.verified) await cache.put(key, inventory);
    return { target: opened.target, inventory };
  } finally {
    await opened.close();
  }
}
