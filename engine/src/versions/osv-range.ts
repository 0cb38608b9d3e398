import { thrownValueText } from '../errors/lading-error.js';
import type { OsvAffected, OsvEvent, OsvRange } from '../model/osv.js';
import { comparatorFor } from './ecosystems.js';
import type { Cmp, VersionScheme } from './scheme.js';
import { semver2Scheme } from './semver2.js';

export interface AffectedVerdict {
  affected: boolean;
  /** The `fixed` events that bound the range(s) the version fell into: the versions to upgrade to. */
  fixedVersions: string[];
  /** Set when the installed version cannot be ordered: it is then reported as not affected, for this reason. */
  invalid?: string;
  /** Events that were skipped because their version could not be parsed (the rest of the range still counts). */
  skipped?: string[];
}

type EventKind = 'introduced' | 'fixed' | 'last_affected' | 'limit';
/** Ties sort introduced first, so `introduced: X, fixed: X` is an empty range, as intended. */
const KIND_ORDER: Record<EventKind, number> = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 };

interface ParsedEvent {
  kind: EventKind;
  version: string;
  /** Undefined for `introduced: "0"`, which precedes every version. */
  parsed: unknown;
}

function eventKind(event: OsvEvent): [EventKind, string] | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as Record<string, unknown>;
  for (const kind of ['introduced', 'fixed', 'last_affected', 'limit'] as const) {
    if (typeof e[kind] === 'string') return [kind, e[kind] as string];
  }
  return undefined;
}

/**
 * Parsed event versions, per scheme: the matcher evaluates the same advisories' events for many packages.
 * Parsed values are never mutated, so sharing them is safe; the cap bounds memory on huge databases.
 */
const parsedEvents = new Map<VersionScheme, Map<string, unknown>>();
const PARSE_CACHE_LIMIT = 50_000;

function parseEvent(scheme: VersionScheme, text: string): unknown {
  let cache = parsedEvents.get(scheme);
  if (!cache) {
    cache = new Map();
    parsedEvents.set(scheme, cache);
  }
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const parsed = scheme.parse(text);
  if (cache.size >= PARSE_CACHE_LIMIT) cache.clear();
  cache.set(text, parsed);
  return parsed;
}

/** SEMVER ranges use SemVer 2.0 whatever the ecosystem; a 'v' prefix (Go habit) is tolerated. */
function semverText(v: string): string {
  return v.startsWith('v') ? v.slice(1) : v;
}

function message(err: unknown): string {
  return thrownValueText(err);
}

interface RangeResult {
  affected: boolean;
  fixed?: string;
}

/** The OSV schema's evaluation: sort events, sweep, the last event at or below the version decides. */
function evaluateRange(
  scheme: VersionScheme,
  events: readonly OsvEvent[],
  version: unknown,
  toText: (v: string) => string,
  skipped: string[],
): RangeResult {
  const parsed: ParsedEvent[] = [];
  let hasInfiniteLimit = false;
  for (const event of events) {
    const kv = eventKind(event);
    if (!kv) continue;
    const [kind, text] = kv;
    if (kind === 'introduced' && text === '0') {
      parsed.push({ kind, version: text, parsed: undefined });
      continue;
    }
    // a limit containing "*" is infinity: the same as no limit at all
    if (kind === 'limit' && text.includes('*')) {
      hasInfiniteLimit = true;
      continue;
    }
    try {
      parsed.push({ kind, version: text, parsed: parseEvent(scheme, toText(text)) });
    } catch (err) {
      skipped.push(`${kind} ${text}: ${message(err)}`);
    }
  }
  const cmp = (a: ParsedEvent, b: ParsedEvent): number => {
    if (a.parsed === undefined || b.parsed === undefined) {
      if (a.parsed === b.parsed) return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
      return a.parsed === undefined ? -1 : 1;
    }
    return scheme.compareParsed(a.parsed, b.parsed) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  };
  parsed.sort(cmp);
  const vs = (e: ParsedEvent): Cmp => (e.parsed === undefined ? 1 : scheme.compareParsed(version, e.parsed));

  const limits = parsed.filter((e) => e.kind === 'limit');
  if (limits.length > 0 && !hasInfiniteLimit && !limits.some((e) => vs(e) < 0)) return { affected: false };

  let vulnerable = false;
  let decidedAt = -1;
  for (let i = 0; i < parsed.length; i++) {
    const e = parsed[i]!;
    const c = vs(e);
    if (e.kind === 'introduced' && c >= 0) {
      vulnerable = true;
      decidedAt = i;
    } else if (e.kind === 'fixed' && c >= 0) {
      vulnerable = false;
      decidedAt = i;
    } else if (e.kind === 'last_affected' && c > 0) {
      vulnerable = false;
      decidedAt = i;
    }
  }
  if (!vulnerable) return { affected: false };
  // the first upper bound after the event that made the version vulnerable is this branch's fix (if a `fixed`)
  for (let i = decidedAt + 1; i < parsed.length; i++) {
    const e = parsed[i]!;
    if (e.kind === 'fixed') return { affected: true, fixed: e.version };
    if (e.kind === 'last_affected') break;
  }
  return { affected: true };
}

/**
 * Evaluates an OSV `affected` entry for one installed version with the ecosystem's order: every ECOSYSTEM and
 * SEMVER range plus the exact `versions[]` list (GIT ranges name commits, not versions, and are ignored).
 * Never throws: an unorderable installed version (or an ecosystem without a known order) makes its ranges
 * unusable, reported through `invalid` when nothing else matched.
 */
export function evaluateAffected(affected: OsvAffected, version: string): AffectedVerdict {
  const ecosystem = affected.package?.ecosystem ?? '';
  const inList = Array.isArray(affected.versions) && affected.versions.includes(version);
  const ranges: OsvRange[] = Array.isArray(affected.ranges) ? affected.ranges : [];
  const fixed = new Set<string>();
  const skipped: string[] = [];
  let inRange = false;
  let invalid: string | undefined;

  for (const range of ranges) {
    if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER') continue;
    if (!Array.isArray(range.events)) continue;
    const semver = range.type === 'SEMVER';
    const toText = semver ? semverText : (v: string) => v;
    let scheme: VersionScheme;
    let parsedVersion: unknown;
    try {
      // an ecosystem Lading has no order for makes the range unusable, not the scan
      scheme = semver ? semver2Scheme : comparatorFor(ecosystem);
      parsedVersion = scheme.parse(toText(version));
    } catch (err) {
      invalid ??= message(err);
      continue;
    }
    const r = evaluateRange(scheme, range.events, parsedVersion, toText, skipped);
    if (r.affected) {
      inRange = true;
      if (r.fixed !== undefined) fixed.add(r.fixed);
    }
  }
  const verdict: AffectedVerdict = { affected: inRange || inList, fixedVersions: [...fixed] };
  if (invalid !== undefined && !verdict.affected) verdict.invalid = invalid;
  if (skipped.length > 0) verdict.skipped = skipped;
  return verdict;
}
