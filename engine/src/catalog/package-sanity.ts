import type { PackageFound } from '../model/package.js';
import type { ScanWarning } from '../model/warning.js';

/**
 * Characters no package manager puts in a name or version: C0/C1 controls, line and paragraph separators, bidi
 * overrides and isolates (they make a report read differently from what it says), and the replacement character
 * that marks bytes which were not UTF-8.
 */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd]/u;
const MAX_NAME = 512;
const MAX_VERSION = 256;

function bad(value: string | undefined, max: number): boolean {
  return value !== undefined && (value.length > max || UNPRINTABLE.test(value) || value !== value.trim());
}

/** Why a package cannot be reported as found, or undefined: the last guard for every cataloger. */
export function packageProblem(pkg: PackageFound): string | undefined {
  if (pkg.name === '' || bad(pkg.name, MAX_NAME)) return `invalid package name ${quote(pkg.name)}`;
  if (pkg.version === '' || bad(pkg.version, MAX_VERSION)) {
    return `package ${quote(pkg.name)} has an invalid version ${quote(pkg.version)}`;
  }
  if (bad(pkg.arch, 64)) return `package ${quote(pkg.name)} has an invalid architecture ${quote(pkg.arch ?? '')}`;
  return undefined;
}

/** Drops what cannot be shown as text from the secondary fields, which are not worth losing the package over. */
export function cleanSecondary(pkg: PackageFound): PackageFound {
  const clean = { ...pkg };
  if (pkg.source && (bad(pkg.source.name, MAX_NAME) || bad(pkg.source.version, MAX_VERSION))) delete clean.source;
  if (pkg.dependsOn) {
    const deps = pkg.dependsOn.filter((d) => d !== '' && !bad(d, MAX_NAME));
    if (deps.length > 0) clean.dependsOn = deps;
    else delete clean.dependsOn;
  }
  clean.licenses = pkg.licenses.map(printable).filter((l) => l !== '');
  if (pkg.metadata) {
    clean.metadata = Object.fromEntries(Object.entries(pkg.metadata).map(([k, v]) => [printable(k), printable(v)]));
  }
  return clean;
}

/** Keeps the packages fit for a report; each one left out becomes a warning naming its cataloger and file. */
export function screenPackages(found: readonly PackageFound[], warnings: ScanWarning[]): PackageFound[] {
  const kept: PackageFound[] = [];
  for (const pkg of found) {
    const problem = packageProblem(pkg);
    if (problem === undefined) {
      kept.push(cleanSecondary(pkg));
      continue;
    }
    const warning: ScanWarning = { cataloger: pkg.foundBy, message: `${problem}; skipped` };
    const path = pkg.locations[0]?.path;
    if (path !== undefined) warning.path = path;
    warnings.push(warning);
  }
  return kept;
}

function printable(text: string): string {
  return text.replace(new RegExp(UNPRINTABLE.source, 'gu'), ' ').trim();
}

/** JSON-quoted and cut short, so a hostile value shows its control characters as escapes. */
function quote(value: string): string {
  const json = JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  return json.replace(
    new RegExp(UNPRINTABLE.source, 'gu'),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
