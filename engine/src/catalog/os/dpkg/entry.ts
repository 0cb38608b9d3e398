import type { Interner } from './interner.js';
import type { Stanza } from './status-file.js';
import { dpkgVersionProblem, isValidArch, isValidPackageName } from './validity.js';

export interface DpkgEntry {
  name: string;
  version: string;
  arch?: string;
  sourceName?: string;
  sourceVersion?: string;
  depends: string[];
}

/**
 * dpkg states whose package files are on disk (dpkg(1) "package states"): `installed` plus the in-between states
 * of an interrupted or pending install/upgrade (`half-installed`, `unpacked`, `half-configured`,
 * `triggers-awaited`, `triggers-pending`). `config-files` (only conffiles left after removal) and
 * `not-installed` are not reported: no program of the package remains. The want flag (`deinstall`, `purge`,
 * `hold`) is intent, not state, and is ignored.
 */
const PRESENT_STATES = new Set([
  'installed',
  'half-installed',
  'unpacked',
  'half-configured',
  'triggers-awaited',
  'triggers-pending',
]);

export function isPresent(status: string | undefined): boolean {
  const state = status?.trim().split(/\s+/)[2];
  return state !== undefined && PRESENT_STATES.has(state);
}

/** `Source: libidn2 (2.0.5-1)` → name and version; `Source: util-linux` → name only. */
export function parseSource(value: string | undefined): { name?: string; version?: string } {
  const m = value?.trim().match(/^(\S+)(?:\s*\((\S+)\))?/);
  if (!m?.[1]) return {};
  return m[2] ? { name: m[1], version: m[2] } : { name: m[1] };
}

/** Package names of a Depends/Pre-Depends value: every alternative, without versions or arch qualifiers. */
export function dependencyNames(...values: (string | undefined)[]): string[] {
  return internedDependencyNames(undefined, ...values);
}

function internedDependencyNames(interner: Interner | undefined, ...values: (string | undefined)[]): string[] {
  const names = new Set<string>();
  for (const value of values) {
    if (!value) continue;
    for (const clause of value.split(',')) {
      for (const alternative of clause.split('|')) {
        const name = alternative.trim().split(/[\s(:[<]/)[0];
        if (name && isValidPackageName(name)) names.add(interner ? interner.intern(name) : name);
      }
    }
  }
  return [...names].sort();
}

/** JSON-quoted, so a hostile value shows its control characters as escapes rather than as raw bytes. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/**
 * `interner`, when given, shares the strings many entries repeat (arch, dependency and source names). A name,
 * version or architecture dpkg would refuse is an error (the caller warns and skips); an unusable Source field is
 * left out and reported through `onNote`.
 */
export function toEntry(
  stanza: Stanza,
  interner?: Interner,
  onNote?: (note: string) => void,
): DpkgEntry | { error: string } {
  const share = (value: string) => (interner ? interner.intern(value) : value);
  const name = stanza.get('package');
  if (!name) return { error: 'paragraph without a Package field' };
  if (!isValidPackageName(name)) return { error: `invalid package name ${quoted(name)}` };
  const version = stanza.get('version');
  if (!version) return { error: `paragraph for ${name} is incomplete: missing Version` };
  const versionProblem = dpkgVersionProblem(version);
  if (versionProblem) return { error: `package ${name} has an invalid version ${quoted(version)}` };
  const entry: DpkgEntry = {
    name,
    version,
    depends: internedDependencyNames(interner, stanza.get('depends'), stanza.get('pre-depends')),
  };
  const arch = stanza.get('architecture');
  if (arch) {
    if (!isValidArch(arch)) return { error: `package ${name} has an invalid architecture ${quoted(arch)}` };
    entry.arch = share(arch);
  }
  const source = parseSource(stanza.get('source'));
  if (source.name && !isValidPackageName(source.name)) {
    onNote?.(`package ${name}: invalid source name ${quoted(source.name)} ignored`);
  } else if (source.version && dpkgVersionProblem(source.version)) {
    onNote?.(`package ${name}: invalid source version ${quoted(source.version)} ignored`);
  } else {
    if (source.name) entry.sourceName = share(source.name);
    if (source.version) entry.sourceVersion = share(source.version);
  }
  return entry;
}
