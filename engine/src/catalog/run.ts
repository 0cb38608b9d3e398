import { createHash } from 'node:crypto';
import { isLadingError, thrownValueText } from '../errors/lading-error.js';
import type { WantedFiles } from '../image/file.js';
import type { InflateAccount } from '../image/open.js';
import type { Inventory } from '../model/inventory.js';
import type { OsInfo } from '../model/os.js';
import type { Package, PackageFound } from '../model/package.js';
import { oneLine, type ScanWarning, scanWarning } from '../model/warning.js';
import {
  type CatalogEnv,
  type Cataloger,
  type CatalogLimits,
  type CatalogResult,
  DEFAULT_LIMITS,
} from './cataloger.js';
import { gapsOf, isWalkGap } from './gaps.js';
import { dropOwnedByOs } from './ownership.js';
import { screenPackages } from './package-sanity.js';
import { keptOnlyForMeta } from './selector.js';

/**
 * Runs the catalogers on the walked files and builds the inventory: OS detection first (its result is the
 * others' env), ownership de-duplication, stable ids and a deterministic order. `walkWarnings` (the walk's, first
 * in the inventory's warnings) name the wanted files the walk skipped: each is a coverage gap of the cataloger
 * that wanted it, as is every cataloger warning that is not a note and every cataloger that failed (gaps.ts).
 */
export async function runCatalogers(
  files: WantedFiles,
  catalogers: readonly Cataloger[],
  limits: CatalogLimits = DEFAULT_LIMITS,
  walkWarnings: readonly ScanWarning[] = [],
  /** What is left of the image's inflate budget (`WalkResult.inflate`), for archives in files kept whole. */
  inflate?: InflateAccount,
): Promise<Inventory> {
  const warnings: ScanWarning[] = [];
  const found: PackageFound[] = [];
  let os: OsInfo | undefined;
  const notes = new Set<ScanWarning>();

  const detectors = catalogers.filter((c) => c.id === 'os-release');
  const others = catalogers.filter((c) => c.id !== 'os-release');
  for (const cataloger of detectors) {
    const result = await runOne(cataloger, files, { limits }, warnings, catalogers);
    os ??= result?.os;
    for (const note of result?.notes ?? []) notes.add(note);
  }
  const env: CatalogEnv = { limits, ...(os ? { os } : {}), ...(inflate ? { inflate } : {}) };
  const results = await Promise.all(others.map((c) => runOne(c, files, env, warnings, catalogers)));
  for (const result of results) {
    if (!result) continue;
    for (const pkg of result.packages) found.push(pkg);
    os ??= result.os;
    for (const note of result.notes ?? []) notes.add(note);
  }

  const packages = assignIds(dropOwnedByOs(screenPackages(found, warnings)));
  const gaps = gapsOf(
    walkWarnings.filter(isWalkGap).map((w) => ({ ...w, cataloger: wanting(catalogers, w.path) })),
    () => false,
  ).concat(gapsOf(warnings, (w) => notes.has(w)));
  const inventory: Inventory = { packages, warnings: walkWarnings.concat(warnings) };
  if (gaps.length > 0) inventory.gaps = gaps;
  if (os) inventory.os = os;
  const noted = results.flatMap((r) => r?.notedFiles ?? []);
  if (noted.length) inventory.notedFiles = noted.sort((a, b) => cmp(a.path, b.path));
  const accounts = results.find((r) => r?.accounts)?.accounts;
  if (accounts) inventory.accounts = accounts;
  return inventory;
}

async function runOne(
  cataloger: Cataloger,
  files: WantedFiles,
  env: CatalogEnv,
  warnings: ScanWarning[],
  all: readonly Cataloger[],
): Promise<CatalogResult | undefined> {
  // A file kept empty for a metadata-only cataloger (the image checks) is that cataloger's alone.
  const mine = new Map(
    [...files].filter(
      ([path, file]) =>
        cataloger.wants(path, file.meta) && (cataloger.metaOnly || !keptOnlyForMeta(file.condensedBy, all)),
    ),
  );
  if (mine.size === 0) return undefined;
  try {
    const result = await cataloger.catalog(mine, env);
    for (const warning of result.warnings) warnings.push(warning);
    return capPerFile(cataloger.id, result, env.limits.maxPackagesPerFile, warnings);
  } catch (err) {
    // A limit of the whole scan (the image's inflate budget) stops the scan, as it does in the walk.
    if (isLadingError(err) && err.code === 'LIMIT') throw err;
    // A cataloger bug must not sink the scan, but it must be seen, and what it covered is a coverage gap (gaps.ts):
    // not a warning that `-q` hides while its packages quietly leave the report.
    warnings.push(scanWarning(cataloger.id, oneLine(`cataloger failed: ${thrownValueText(err)}`)));
    return undefined;
  }
}

/**
 * The one place the per-file package cap is enforced: a file (a lockfile, a package database, an SBOM) that yields
 * more than `max` packages keeps its first `max` and becomes a coverage gap, never a silent drop. Catalogers of large
 * databases stop collecting one past the cap, so this sees that there were more without holding them all.
 */
function capPerFile(id: string, result: CatalogResult, max: number, warnings: ScanWarning[]): CatalogResult {
  const perFile = new Map<string, number>();
  const over = new Set<string>();
  const kept: PackageFound[] = [];
  for (const pkg of result.packages) {
    const file = pkg.locations[0]?.path ?? '';
    const n = (perFile.get(file) ?? 0) + 1;
    perFile.set(file, n);
    if (n <= max) kept.push(pkg);
    else over.add(file);
  }
  if (over.size === 0) return result;
  for (const file of over) {
    const message = `more than ${max} packages in one file: only the first ${max} were read`;
    warnings.push(file ? scanWarning(id, message, file) : scanWarning(id, message));
  }
  return { ...result, packages: kept };
}

/** The id of the first cataloger that wants a path the walk skipped (`image` when none says so by path alone). */
function wanting(catalogers: readonly Cataloger[], path: string | undefined): string {
  if (path === undefined) return 'image';
  const meta = { size: 0, mode: 0o644, type: 'file' as const };
  return catalogers.find((c) => c.id !== 'os-release' && !c.metaOnly && c.wants(path, meta))?.id ?? 'image';
}

/** Sorts packages deterministically and gives each an id stable across runs of the same image. */
export function assignIds(found: readonly PackageFound[]): Package[] {
  const sorted = [...found].sort(comparePackages);
  const seen = new Map<string, number>();
  return sorted.map((pkg) => {
    const { ownedFiles: _owned, ...rest } = pkg;
    const basis = `${pkg.type}\0${pkg.purl}\0${pkg.locations[0]?.path ?? ''}`;
    let id = createHash('sha256').update(basis).digest('hex').slice(0, 16);
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    if (n > 0) id = `${id}-${n}`;
    return { id, ...rest };
  });
}

function comparePackages(a: PackageFound, b: PackageFound): number {
  return (
    cmp(a.type, b.type) ||
    cmp(a.name, b.name) ||
    cmp(a.version, b.version) ||
    cmp(a.locations[0]?.path ?? '', b.locations[0]?.path ?? '') ||
    cmp(a.purl, b.purl)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
