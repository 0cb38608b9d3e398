// POST /api/v1/vex (scope triage): an OpenVEX 0.2 or CycloneDX 1.4-1.6 VEX document imported as exceptions (SERVER.md
// section 2, "Writes"). Each statement that says a product is not affected becomes one exception (source `vex`) per
// repository it matches, with the statement's justification and impact statement as the reason and the request's
// `expiresAt` (required: a VEX statement never expires by itself, an exception must be revisited). The statuses map
// as `lading scan --vex` reads them (engine policy/vex.ts), except that CycloneDX `false_positive` keeps its own
// exception status. Products are matched by image digest or package purl, only in the caller's triage repositories.
// Like the exceptions API, the whole import is ONE transaction: the exceptions, the findings they suppress, those
// images' counters recounted, and one event per exception, so the numbers and the audit log never disagree.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Transaction } from 'kysely';
import { type Caller, callerMayAccess, requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { recordEvent } from '../events/index.js';
import { ProblemError } from '../http/problem.js';
import { findVulnerability } from '../queries/vulnerabilities.js';
import { recountImages } from '../reanalysis/counters.js';

const DAY_MS = 86_400_000;
/** As the exceptions API: an exception lives at most a year. */
const MAX_EXCEPTION_DAYS = 365;
/** Statements (OpenVEX) or vulnerabilities (CycloneDX) per document, and (statement, product) pairs in all. */
export const MAX_VEX_STATEMENTS = 1000;
export const MAX_VEX_TARGETS = 5000;
/** CycloneDX component trees: deeper or larger than any real SBOM's, and a walk stays bounded. */
const MAX_COMPONENT_DEPTH = 32;
const MAX_COMPONENTS = 50_000;
const MAX_REASON = 2000;
const IDS_PER_UPDATE = 1000;
const MAX_ID = 200;

export type VexFormat = 'openvex' | 'cyclonedx';
/** The exception statuses a VEX statement can give; the other VEX statuses suppress nothing. */
type SuppressingStatus = 'not_affected' | 'false_positive' | 'fixed';

const OPENVEX_STATUS: Record<string, SuppressingStatus | null> = {
  not_affected: 'not_affected',
  fixed: 'fixed',
  affected: null,
  under_investigation: null,
};
const CYCLONEDX_STATE: Record<string, SuppressingStatus | null> = {
  not_affected: 'not_affected',
  false_positive: 'false_positive',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: null,
  in_triage: null,
};

/** One product a statement names, as the server can match it. */
export interface VexTarget {
  /** How the document named it (shown back in the response). */
  product: string;
  /** An image manifest digest, when the product is an image. */
  digest: string | null;
  /** A package purl (qualifiers and subpath dropped), when the product or subcomponent is a package. */
  purl: string | null;
}

/** One statement about one vulnerability, flattened from either format. */
export interface VexClaim {
  /** The vulnerability's id and aliases, as the document gives them. */
  ids: string[];
  /** The document's status word (`not_affected`, `resolved`, …). */
  statusWord: string;
  status: SuppressingStatus | null;
  justification: string | null;
  detail: string | null;
  targets: VexTarget[];
  /** Why a named product cannot be matched (a CPE, a BOM-Link into another document): reported as unmatched. */
  unusable: { product: string; reason: string }[];
}

export interface ParsedVex {
  format: VexFormat;
  /** The document's @id or serialNumber, for the exceptions' reasons. */
  documentId: string | null;
  claims: VexClaim[];
}

function malformed(detail: string, pointer?: string): ProblemError {
  return new ProblemError(422, 'Unprocessable Content', `document${pointer ? `.${pointer}` : ''}: ${detail}`, {
    code: 'invalid_vex',
    field: pointer ? `document.${pointer}` : 'document',
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shortText(v: unknown, max = MAX_ID): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : null;
}

const DIGEST_IN_TEXT = /sha256(?::|%3a)([0-9a-f]{64})/i;

/** The image digest a product names: `sha256:…`, `name@sha256:…`, `pkg:oci/name@sha256%3A…`. */
export function digestOfProduct(text: string): string | null {
  const m = DIGEST_IN_TEXT.exec(text);
  if (!m) return null;
  // a package purl with a sha256 somewhere in its qualifiers is a package, not an image
  if (text.startsWith('pkg:') && !text.toLowerCase().startsWith('pkg:oci/')) return null;
  return `sha256:${m[1]!.toLowerCase()}`;
}

/**
 * A purl as compared here: `pkg:type/namespace/name` and its version, without qualifiers and subpath, percent-decoded,
 * the type lower-cased. The version is what follows the last `@` after the last `/` (a scoped npm namespace's `@`
 * comes before a `/`). Null when the text is not a purl.
 */
export function purlParts(text: string): { name: string; version: string | null } | null {
  if (!/^pkg:[a-z0-9.+-]+\/./i.test(text)) return null;
  const base = text.split(/[?#]/)[0]!;
  const at = base.lastIndexOf('@');
  const hasVersion = at > base.lastIndexOf('/');
  try {
    const name = decodeURIComponent(hasVersion ? base.slice(0, at) : base);
    const slash = name.indexOf('/');
    return {
      name: `${name.slice(0, slash).toLowerCase()}${name.slice(slash)}`,
      version: hasVersion ? decodeURIComponent(base.slice(at + 1)) : null,
    };
  } catch {
    return null;
  }
}

/** The purl as stored on an exception: name and version as the document gave them, no qualifiers. */
export function purlBase(text: string): string | null {
  const parts = purlParts(text);
  if (parts === null) return null;
  return parts.version === null ? parts.name : `${parts.name}@${parts.version}`;
}

/** Whether the stored package purl `stored` is the one the VEX purl names (any version when it names none). */
export function purlMatches(vexPurl: string, stored: string): boolean {
  const a = purlParts(vexPurl);
  const b = purlParts(stored);
  if (a === null || b === null || a.name !== b.name) return false;
  return a.version === null || a.version === b.version;
}

function targetOf(product: string, subcomponent: string | null): VexTarget | { product: string; reason: string } {
  const digest = digestOfProduct(product);
  // an image named by tag or name only could be any build: never widen such a statement to every image
  if (digest === null && /^pkg:oci\//i.test(product)) {
    return { product, reason: 'an image product needs its digest (pkg:oci/name@sha256%3A…)' };
  }
  if (subcomponent !== null) {
    const purl = purlBase(subcomponent);
    if (purl === null) return { product: subcomponent, reason: 'the subcomponent is not a purl' };
    return { product: `${product} ${subcomponent}`, digest, purl };
  }
  if (digest !== null) return { product, digest, purl: null };
  const purl = purlBase(product);
  if (purl !== null) return { product, digest: null, purl };
  return { product, reason: 'the product is neither an image digest nor a package purl' };
}

function addTarget(claim: VexClaim, t: VexTarget | { product: string; reason: string }, count: { n: number }): void {
  if (++count.n > MAX_VEX_TARGETS) {
    throw malformed(`more than ${MAX_VEX_TARGETS} statement and product pairs; split the document`);
  }
  if ('reason' in t) claim.unusable.push({ product: t.product.slice(0, 500), reason: t.reason });
  else claim.targets.push({ ...t, product: t.product.slice(0, 500) });
}

/** The identifiers an OpenVEX component or subcomponent gives, best first. */
function openVexNames(c: Record<string, unknown>): string[] {
  const names: string[] = [];
  const identifiers = isObject(c.identifiers) ? c.identifiers : {};
  for (const v of [c['@id'], identifiers.purl]) if (typeof v === 'string' && v.length <= 2048) names.push(v);
  const hashes = isObject(c.hashes) ? c.hashes : {};
  if (typeof hashes['sha-256'] === 'string' && /^[0-9a-f]{64}$/i.test(hashes['sha-256'])) {
    names.push(`sha256:${hashes['sha-256'].toLowerCase()}`);
  }
  return names;
}

function parseOpenVex(doc: Record<string, unknown>, count: { n: number }): ParsedVex {
  const statements = doc.statements;
  if (!Array.isArray(statements)) throw malformed('must be an array', 'statements');
  if (statements.length > MAX_VEX_STATEMENTS) {
    throw malformed(`more than ${MAX_VEX_STATEMENTS} statements; split the document`, 'statements');
  }
  const claims: VexClaim[] = [];
  for (const [i, raw] of statements.entries()) {
    const at = `statements[${i}]`;
    if (!isObject(raw)) throw malformed('must be an object', at);
    const vuln = raw.vulnerability;
    const ids: string[] = [];
    if (typeof vuln === 'string') ids.push(vuln);
    else if (isObject(vuln)) {
      for (const v of [vuln.name, vuln['@id']]) if (shortText(v)) ids.push(shortText(v)!);
      if (Array.isArray(vuln.aliases))
        for (const a of vuln.aliases.slice(0, 50)) if (shortText(a)) ids.push(shortText(a)!);
    }
    if (ids.length === 0) throw malformed('names no vulnerability', `${at}.vulnerability`);
    const statusWord = raw.status;
    if (typeof statusWord !== 'string' || !(statusWord in OPENVEX_STATUS)) {
      throw malformed(`must be one of ${Object.keys(OPENVEX_STATUS).join(', ')}`, `${at}.status`);
    }
    const claim: VexClaim = {
      ids: [...new Set(ids)],
      statusWord,
      status: OPENVEX_STATUS[statusWord] ?? null,
      justification: shortText(raw.justification, 100),
      detail: shortText(raw.impact_statement, MAX_REASON),
      targets: [],
      unusable: [],
    };
    const products = raw.products ?? [];
    if (!Array.isArray(products)) throw malformed('must be an array', `${at}.products`);
    for (const [j, p] of products.entries()) {
      const names = typeof p === 'string' ? [p] : isObject(p) ? openVexNames(p) : [];
      if (names.length === 0)
        throw malformed('must name the product (@id, identifiers or hashes)', `${at}.products[${j}]`);
      // the image digest when any identifier gives one, else the first identifier
      const product = names.find((n) => digestOfProduct(n) !== null) ?? names[0]!;
      const subs = isObject(p) && Array.isArray(p.subcomponents) ? p.subcomponents : [];
      if (subs.length === 0) addTarget(claim, targetOf(product, null), count);
      for (const s of subs) {
        const subNames = typeof s === 'string' ? [s] : isObject(s) ? openVexNames(s) : [];
        const sub = subNames.find((n) => purlBase(n) !== null) ?? subNames[0];
        if (sub === undefined) throw malformed('must name the subcomponent', `${at}.products[${j}].subcomponents`);
        addTarget(claim, targetOf(product, sub), count);
      }
    }
    claims.push(claim);
  }
  return { format: 'openvex', documentId: shortText(doc['@id'], 500), claims };
}

/** bom-ref → purl of every component (metadata.component included), bounded in depth and count. */
function componentPurls(doc: Record<string, unknown>): Map<string, string> {
  const map = new Map<string, string>();
  let seen = 0;
  const walk = (c: unknown, depth: number): void => {
    if (!isObject(c)) return;
    if (++seen > MAX_COMPONENTS) throw malformed(`more than ${MAX_COMPONENTS} components`, 'components');
    if (depth > MAX_COMPONENT_DEPTH)
      throw malformed(`components nested deeper than ${MAX_COMPONENT_DEPTH}`, 'components');
    if (typeof c['bom-ref'] === 'string' && typeof c.purl === 'string') map.set(c['bom-ref'], c.purl);
    if (Array.isArray(c.components)) for (const child of c.components) walk(child, depth + 1);
  };
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  walk(metadata.component, 0);
  if (doc.components !== undefined && !Array.isArray(doc.components)) throw malformed('must be an array', 'components');
  for (const c of (doc.components as unknown[] | undefined) ?? []) walk(c, 0);
  return map;
}

function parseCycloneDx(doc: Record<string, unknown>, count: { n: number }): ParsedVex {
  const spec = doc.specVersion;
  if (typeof spec !== 'string' || !/^1\.[4-6]$/.test(spec)) {
    throw malformed('must be 1.4, 1.5 or 1.6 (VEX analysis came in 1.4)', 'specVersion');
  }
  const vulns = doc.vulnerabilities;
  if (!Array.isArray(vulns)) throw malformed('must be an array', 'vulnerabilities');
  if (vulns.length > MAX_VEX_STATEMENTS) {
    throw malformed(`more than ${MAX_VEX_STATEMENTS} vulnerabilities; split the document`, 'vulnerabilities');
  }
  const purls = componentPurls(doc);
  const claims: VexClaim[] = [];
  for (const [i, raw] of vulns.entries()) {
    const at = `vulnerabilities[${i}]`;
    if (!isObject(raw)) throw malformed('must be an object', at);
    const id = shortText(raw.id);
    if (id === null) throw malformed('missing vulnerability id', `${at}.id`);
    const ids = [id];
    if (Array.isArray(raw.references)) {
      for (const r of raw.references.slice(0, 50)) if (isObject(r) && shortText(r.id)) ids.push(shortText(r.id)!);
    }
    const analysis = raw.analysis;
    if (!isObject(analysis))
      throw malformed('must be an object (the VEX part of a CycloneDX vulnerability)', `${at}.analysis`);
    const state = analysis.state;
    if (typeof state !== 'string' || !(state in CYCLONEDX_STATE)) {
      throw malformed(`must be one of ${Object.keys(CYCLONEDX_STATE).join(', ')}`, `${at}.analysis.state`);
    }
    const claim: VexClaim = {
      ids: [...new Set(ids)],
      statusWord: state,
      status: CYCLONEDX_STATE[state] ?? null,
      justification: shortText(analysis.justification, 100),
      detail: shortText(analysis.detail, MAX_REASON),
      targets: [],
      unusable: [],
    };
    const affects = raw.affects ?? [];
    if (!Array.isArray(affects)) throw malformed('must be an array', `${at}.affects`);
    for (const [j, a] of affects.entries()) {
      const ref = isObject(a) ? a.ref : undefined;
      if (typeof ref !== 'string' || ref === '' || ref.length > 2048) {
        throw malformed('must hold a ref', `${at}.affects[${j}]`);
      }
      // a BOM-Link (urn:cdx:serial/version#bom-ref) points into the SBOM the VEX is about: its bom-ref part
      const local = ref.startsWith('urn:cdx:') ? (ref.split('#')[1] ?? '') : ref;
      const named = purls.get(local) ?? purls.get(ref) ?? local;
      const target = targetOf(named, null);
      if ('reason' in target && ref.startsWith('urn:cdx:')) {
        addTarget(claim, { product: ref, reason: 'a BOM-Link to a component this document does not describe' }, count);
      } else addTarget(claim, { ...target, product: named === local ? ref : `${ref} (${named})` }, count);
    }
    claims.push(claim);
  }
  return { format: 'cyclonedx', documentId: shortText(doc.serialNumber, 500), claims };
}

/** Reads an OpenVEX or CycloneDX VEX document (already JSON); a malformed one is a 422 naming the field. */
export function parseVexDocument(doc: unknown): ParsedVex {
  if (!isObject(doc)) throw malformed('must be a JSON object (an OpenVEX or CycloneDX document)');
  const count = { n: 0 };
  if (typeof doc['@context'] === 'string' && doc['@context'].toLowerCase().includes('openvex')) {
    return parseOpenVex(doc, count);
  }
  if (doc.bomFormat === 'CycloneDX') return parseCycloneDx(doc, count);
  throw malformed('neither OpenVEX (an @context naming openvex) nor CycloneDX (bomFormat)');
}

interface ImportRequest {
  document: unknown;
  expiresAt: number;
  repository: string | null;
}

function invalid(field: string, detail: string): ProblemError {
  return new ProblemError(422, 'Unprocessable Content', `${field}: ${detail}`, { code: 'invalid_field', field });
}

function parseRequest(body: unknown, now: number): ImportRequest {
  if (!isObject(body)) {
    throw new ProblemError(400, 'Bad Request', 'the body must be a JSON object {document, expiresAt, repository?}');
  }
  for (const key of Object.keys(body)) {
    if (!['document', 'expiresAt', 'repository'].includes(key)) throw invalid(key.slice(0, 64), 'is not a known field');
  }
  if (body.document === undefined) throw invalid('document', 'is required (the OpenVEX or CycloneDX JSON document)');
  const expiresText = body.expiresAt;
  if (expiresText === undefined || expiresText === null) {
    throw invalid('expiresAt', 'is required: a VEX statement does not expire, the exceptions made from it must');
  }
  const expiresAt =
    typeof expiresText === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(expiresText) ? Date.parse(expiresText) : Number.NaN;
  if (!Number.isFinite(expiresAt)) throw invalid('expiresAt', 'must be an RFC 3339 time');
  if (expiresAt <= now) throw invalid('expiresAt', 'must be in the future');
  if (expiresAt > now + MAX_EXCEPTION_DAYS * DAY_MS) {
    throw invalid('expiresAt', `at most ${MAX_EXCEPTION_DAYS} days ahead: an exception must be revisited`);
  }
  const repository = body.repository;
  if (repository !== undefined && (typeof repository !== 'string' || repository === '' || repository.length > 255)) {
    throw invalid('repository', 'must be a repository name');
  }
  return { document: body.document, expiresAt, repository: (repository as string | undefined) ?? null };
}

export interface VexApplied {
  vulnerability: string;
  product: string;
  repository: string;
  imageDigest: string | null;
  package: string | null;
  status: SuppressingStatus;
  exception: string;
  created: boolean;
  suppressedFindings: number;
}

export interface VexUnmatched {
  vulnerability: string;
  product: string | null;
  status: string;
  reason: string;
}

function reasonOf(claim: VexClaim, parsed: ParsedVex): string {
  const what = [claim.justification, claim.detail].filter(Boolean).join(': ') || claim.statusWord;
  const source = `${parsed.format === 'openvex' ? 'OpenVEX' : 'CycloneDX VEX'}${parsed.documentId ? ` ${parsed.documentId}` : ''}`;
  const text = `${what} (${source})`;
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

interface FindingRow {
  id: number;
  imageId: number;
  status: string;
  purl: string;
  repositoryId: number;
  repository: string;
}

async function findingsFor(
  trx: Transaction<Database>,
  vulnerabilityId: number,
  target: VexTarget,
): Promise<FindingRow[]> {
  let q = trx
    .selectFrom('findings as f')
    .innerJoin('images as i', 'i.id', 'f.image_id')
    .innerJoin('packages as p', 'p.id', 'f.package_id')
    .innerJoin('repository_images as ri', 'ri.image_id', 'f.image_id')
    .innerJoin('repositories as r', 'r.id', 'ri.repository_id')
    .select(['f.id', 'f.image_id', 'f.status', 'p.purl', 'p.name_lc', 'r.id as repository_id', 'r.name'])
    .where('f.vulnerability_id', '=', vulnerabilityId)
    .where('f.status', 'in', ['open', 'suppressed']);
  if (target.digest !== null) q = q.where('i.digest', '=', target.digest);
  const rows = await q.execute();
  return rows
    .filter((r) => target.purl === null || purlMatches(target.purl, r.purl))
    .map((r) => ({
      id: Number(r.id),
      imageId: Number(r.image_id),
      status: r.status,
      purl: r.purl,
      repositoryId: Number(r.repository_id),
      repository: r.name,
    }));
}

function actorOf(caller: Caller): { kind: 'user' | 'token' | 'system'; id: number } {
  return { kind: caller.kind, id: caller.id };
}

export function registerVexRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/api/v1/vex', async (request) => {
    const caller = requireScope(request, 'triage');
    const now = ctx.now();
    const input = parseRequest(request.body, now);
    const parsed = parseVexDocument(input.document);
    if (input.repository !== null) {
      const repo = await ctx.db
        .selectFrom('repositories')
        .select('name')
        .where('name_lc', '=', input.repository.toLowerCase())
        .executeTakeFirst();
      if (!repo || !callerMayAccess(caller, repo.name)) {
        throw new ProblemError(404, 'Not Found', `no repository ${input.repository}`);
      }
    }
    const inScope = (name: string) =>
      callerMayAccess(caller, name) &&
      (input.repository === null || name.toLowerCase() === input.repository.toLowerCase());

    const applied: VexApplied[] = [];
    const unmatched: VexUnmatched[] = [];
    await ctx.db.transaction().execute(async (trx) => {
      const touched = new Set<number>();
      // findings suppressed by this import: an image in two repositories (or two statements) covers a finding once
      const suppressed = new Set<number>();
      for (const claim of parsed.claims) {
        const label = claim.ids[0]!;
        const miss = (product: string | null, reason: string) =>
          unmatched.push({ vulnerability: label, product, status: claim.statusWord, reason });
        for (const u of claim.unusable) miss(u.product, u.reason);
        if (claim.targets.length === 0) {
          if (claim.unusable.length === 0) miss(null, 'the statement names no product');
          continue;
        }
        if (claim.status === null) {
          for (const t of claim.targets) miss(t.product, `status ${claim.statusWord} suppresses nothing`);
          continue;
        }
        if (parsed.format === 'openvex' && claim.status === 'not_affected' && !claim.justification && !claim.detail) {
          for (const t of claim.targets) {
            miss(t.product, 'not_affected without a justification or impact_statement (OpenVEX requires one)');
          }
          continue;
        }
        let vuln: Awaited<ReturnType<typeof findVulnerability>>;
        for (const id of claim.ids) {
          vuln = await findVulnerability(trx, id);
          if (vuln) break;
        }
        if (!vuln) {
          for (const t of claim.targets) miss(t.product, `no vulnerability known as ${claim.ids.join(', ')}`);
          continue;
        }
        const reason = reasonOf(claim, parsed);
        for (const target of claim.targets) {
          const rows = (await findingsFor(trx, vuln.id, target)).filter((r) => inScope(r.repository));
          if (rows.length === 0) {
            const where = target.digest !== null ? `image ${target.digest}` : `package ${target.purl}`;
            miss(target.product, `no finding of ${vuln.vuln_id} in ${where} in your repositories`);
            continue;
          }
          const byRepository = new Map<number, FindingRow[]>();
          for (const r of rows) {
            const list = byRepository.get(r.repositoryId);
            if (list) list.push(r);
            else byRepository.set(r.repositoryId, [r]);
          }
          for (const [repositoryId, found] of byRepository) {
            const openIds = new Set(found.filter((f) => f.status === 'open' && !suppressed.has(f.id)).map((f) => f.id));
            const open = [...openIds];
            const existing = await trx
              .selectFrom('exceptions')
              .select(['id', 'public_id'])
              .where('vulnerability_id', '=', vuln.id)
              .where('repository_id', '=', repositoryId)
              .where('source', '=', 'vex')
              .where('revoked_at', 'is', null)
              .where('expires_at', '>', now)
              .where((eb) =>
                target.digest === null ? eb('image_digest', 'is', null) : eb('image_digest', '=', target.digest),
              )
              .where((eb) =>
                target.purl === null ? eb('package_pattern', 'is', null) : eb('package_pattern', '=', target.purl),
              )
              .where('status', '=', claim.status)
              .executeTakeFirst();
            let exceptionId: number;
            let publicId: string;
            if (existing) {
              exceptionId = Number(existing.id);
              publicId = existing.public_id;
            } else {
              publicId = `exc_${randomBytes(10).toString('hex')}`;
              const inserted = await trx
                .insertInto('exceptions')
                .values({
                  public_id: publicId,
                  vulnerability_id: vuln.id,
                  repository_id: repositoryId,
                  image_digest: target.digest,
                  package_pattern: target.purl,
                  status: claim.status,
                  justification: claim.justification,
                  reason,
                  owner_user_id: caller.kind === 'user' ? caller.id : null,
                  created_by: caller.id,
                  expires_at: input.expiresAt,
                  revoked_at: null,
                  source: 'vex',
                  created_at: now,
                })
                .returning('id')
                .executeTakeFirstOrThrow();
              exceptionId = Number(inserted.id);
            }
            if (open.length > 0) {
              // in slices: SQLite binds at most 32,766 parameters per statement
              for (let i = 0; i < open.length; i += IDS_PER_UPDATE) {
                await trx
                  .updateTable('findings')
                  .set({ status: 'suppressed', exception_id: exceptionId })
                  .where('id', 'in', open.slice(i, i + IDS_PER_UPDATE))
                  .where('status', '=', 'open')
                  .execute();
              }
              for (const f of found) if (openIds.has(f.id)) touched.add(f.imageId);
              for (const id of open) suppressed.add(id);
            }
            if (!existing || open.length > 0) {
              await recordEvent(trx, {
                at: now,
                type: existing ? 'exception.applied' : 'exception.created',
                actor: actorOf(caller),
                repositoryId,
                vulnerabilityId: vuln.id,
                requestId: publicId,
                data: {
                  exception: publicId,
                  source: 'vex',
                  format: parsed.format,
                  document: parsed.documentId,
                  vulnerability: vuln.vuln_id,
                  imageDigest: target.digest,
                  package: target.purl,
                  status: claim.status,
                  reason,
                  expiresAt: new Date(input.expiresAt).toISOString(),
                  suppressedFindings: open.length,
                },
              });
            }
            applied.push({
              vulnerability: vuln.vuln_id,
              product: target.product,
              repository: found[0]!.repository,
              imageDigest: target.digest,
              package: target.purl,
              status: claim.status,
              exception: publicId,
              created: !existing,
              suppressedFindings: open.length,
            });
          }
        }
      }
      // the counters change with the findings, in this transaction (as the exceptions API does)
      if (touched.size > 0) await recountImages(trx, [...touched]);
    });
    return {
      format: parsed.format,
      statements: parsed.claims.length,
      applied,
      unmatched,
    };
  });
}
