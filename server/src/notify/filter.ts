// Which events a rule wants. A rule's filter is plain data checked against facts about one event; every field that is
// present must match (an absent field matches everything).
import { repositoryPatternMatches } from '../auth/index.js';

export const SEVERITY_ORDER = ['unknown', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITY_ORDER)[number];

export interface RuleFilter {
  /** Event types, e.g. `finding.new`; absent = every type. */
  readonly eventTypes?: readonly string[];
  /** The event's severity must be at least this (events without a severity never match a rule that sets it). */
  readonly minSeverity?: Severity;
  /** Only events about a vulnerability in CISA's KEV catalog. */
  readonly kevOnly?: boolean;
  /** Repository name patterns (`ghcr.io/acme/*`), as in token grants. */
  readonly repositories?: readonly string[];
  /** Names of the teams owning the repository. */
  readonly teams?: readonly string[];
}

export interface EventFacts {
  readonly type: string;
  readonly severity: string | null;
  readonly kev: boolean;
  readonly repository: string | null;
  readonly team: string | null;
}

function rank(severity: string | null): number {
  return severity === null ? -1 : SEVERITY_ORDER.indexOf(severity.toLowerCase() as Severity);
}

export function filterMatches(filter: RuleFilter, facts: EventFacts): boolean {
  if (filter.eventTypes !== undefined && !filter.eventTypes.includes(facts.type)) return false;
  if (filter.minSeverity !== undefined && rank(facts.severity) < rank(filter.minSeverity)) return false;
  if (filter.kevOnly === true && !facts.kev) return false;
  if (filter.repositories !== undefined) {
    const name = facts.repository;
    if (name === null || !filter.repositories.some((p) => repositoryPatternMatches(p, name))) return false;
  }
  if (filter.teams !== undefined && (facts.team === null || !filter.teams.includes(facts.team))) return false;
  return true;
}

/** Checks an API-supplied filter; returns the problem as one line, or the filter. */
export function parseFilter(value: unknown): RuleFilter | string {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return 'filter must be an object';
  const v = value as Record<string, unknown>;
  const known = new Set(['eventTypes', 'minSeverity', 'kevOnly', 'repositories', 'teams']);
  for (const key of Object.keys(v)) if (!known.has(key)) return `filter has an unknown field "${key}"`;
  const strings = (name: string): readonly string[] | undefined | string => {
    const x = v[name];
    if (x === undefined) return undefined;
    if (
      !Array.isArray(x) ||
      x.length > 100 ||
      !x.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 255)
    ) {
      return `filter.${name} must be a list of at most 100 non-empty strings`;
    }
    return x as string[];
  };
  const out: { -readonly [K in keyof RuleFilter]: RuleFilter[K] } = {};
  for (const name of ['eventTypes', 'repositories', 'teams'] as const) {
    const list = strings(name);
    if (typeof list === 'string') return list;
    if (list !== undefined) out[name] = list;
  }
  if (v.minSeverity !== undefined) {
    if (typeof v.minSeverity !== 'string' || !SEVERITY_ORDER.includes(v.minSeverity as Severity)) {
      return `filter.minSeverity must be one of ${SEVERITY_ORDER.join(', ')}`;
    }
    out.minSeverity = v.minSeverity as Severity;
  }
  if (v.kevOnly !== undefined) {
    if (typeof v.kevOnly !== 'boolean') return 'filter.kevOnly must be true or false';
    out.kevOnly = v.kevOnly;
  }
  return out;
}
