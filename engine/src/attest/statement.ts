import { LadingError } from '../errors/lading-error.js';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** What cosign's own `attest` still writes; accepted when reading. */
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
  [field: string]: unknown;
}

export interface Statement {
  _type: string;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: unknown;
}

export function buildStatement(subject: ResourceDescriptor[], predicateType: string, predicate: unknown): Statement {
  if (subject.length === 0) throw new LadingError('USAGE', 'an in-toto statement needs at least one subject');
  return { _type: STATEMENT_V1, subject, predicateType, predicate };
}

/** Parses verified payload bytes into a Statement, checking the fields a consumer relies on. */
export function parseStatement(payload: Buffer, what: string): Statement {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new LadingError('VERIFY_FAILED', `${what}: the signed payload is not JSON`);
  }
  const s = raw as Partial<Statement> | null;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw invalid(what, 'not an object');
  if (s._type !== STATEMENT_V1 && s._type !== STATEMENT_V01) throw invalid(what, `unknown _type ${String(s._type)}`);
  if (typeof s.predicateType !== 'string') throw invalid(what, 'predicateType must be a string');
  if (!Array.isArray(s.subject) || s.subject.length === 0) throw invalid(what, 'subject must be a non-empty array');
  for (const subject of s.subject) {
    const digest = (subject as Partial<ResourceDescriptor> | null)?.digest;
    if (!digest || typeof digest !== 'object' || Object.values(digest).some((v) => typeof v !== 'string')) {
      throw invalid(what, 'every subject needs a digest map');
    }
  }
  return s as Statement;
}

/** Whether a subject carries this `sha256:<hex>` digest (matching is by digest only, per the in-toto spec). */
export function statementCovers(statement: Statement, digest: string): boolean {
  const hex = digest.replace(/^sha256:/, '').toLowerCase();
  return statement.subject.some((s) => s.digest['sha256']?.toLowerCase() === hex);
}

function invalid(what: string, why: string): LadingError {
  return new LadingError('VERIFY_FAILED', `${what}: not an in-toto statement: ${why}`);
}
