// /api/v1/trusted-keys (admin): the public keys the evidence scorecard verifies provenance and image signatures with
// (SERVER.md section 7: `trusted_keys` scoped by repository pattern; rotation adds a key, a revocation applies to later
// ingests). The ingest job reads the active keys whose pattern matches the repository (ingest/process.ts), so a key
// added here counts from the next ingest on. A key is validated and re-encoded as SPKI PEM here, never at ingest:
// a private key pasted by mistake is refused and never stored. Adding and revoking are one event each.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type Caller, requireAdmin } from '../auth/index.js';
import { repositoryPatternProblem } from '../auth/patterns.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { recordEvent } from '../events/index.js';
import { ProblemError } from '../http/problem.js';

/** A PEM block is a few hundred bytes (RSA 4096: about 800); more is not a key. */
const MAX_PEM_LENGTH = 16_384;
const MIN_RSA_BITS = 2048;
const LIST_MAX = 200;
const LIST_DEFAULT = 50;

export type TrustedKeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa';

export interface ParsedPublicKey {
  algorithm: TrustedKeyAlgorithm;
  /** RSA only. */
  bits?: number;
  /** The key re-encoded as SPKI PEM (what is stored and shown). */
  pem: string;
  /** `sha256:<hex>` of the SPKI DER. */
  fingerprint: string;
  /** `key_` and the fingerprint's first 16 hex digits: the same key always gets the same id. */
  id: string;
}

export interface TrustedKeyView {
  id: string;
  algorithm: string;
  bits?: number;
  fingerprint: string;
  repositoryPattern: string;
  publicKey: string;
  createdAt: string;
  revokedAt: string | null;
}

function unprocessable(detail: string, field = 'publicKey'): ProblemError {
  return new ProblemError(422, 'Unprocessable Content', `${field}: ${detail}`, { code: 'invalid_key', field });
}

/**
 * Validates a PEM public key as the scorecard can use it: exactly one `PUBLIC KEY` block of ECDSA P-256/P-384,
 * Ed25519 or RSA of at least 2048 bits. Throws a 422 problem naming what is wrong.
 */
export function parseTrustedPublicKey(text: unknown): ParsedPublicKey {
  if (typeof text !== 'string' || text.trim() === '') throw unprocessable('a PEM public key is required');
  if (text.length > MAX_PEM_LENGTH) throw unprocessable(`longer than ${MAX_PEM_LENGTH} characters: not one public key`);
  // createPublicKey would happily derive the public half of a private key: a secret must not be accepted at all
  if (/PRIVATE KEY-----/.test(text)) {
    throw unprocessable(
      'this is a PRIVATE key; paste the public key (cosign.pub), and treat the private key as leaked',
    );
  }
  const blocks = text.match(/-----BEGIN [A-Z0-9 ]+-----/g) ?? [];
  if (blocks.length !== 1 || blocks[0] !== '-----BEGIN PUBLIC KEY-----' || !/-----END PUBLIC KEY-----/.test(text)) {
    throw unprocessable('must be exactly one PEM block "-----BEGIN PUBLIC KEY-----" … "-----END PUBLIC KEY-----"');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text.trim(), format: 'pem' });
  } catch {
    throw unprocessable('the PEM block does not hold a readable public key');
  }
  let algorithm: TrustedKeyAlgorithm;
  let bits: number | undefined;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve === 'prime256v1') algorithm = 'ecdsa-p256';
      else if (details.namedCurve === 'secp384r1') algorithm = 'ecdsa-p384';
      else throw unprocessable(`ECDSA curve ${details.namedCurve ?? 'unknown'} is not supported (P-256 or P-384)`);
      break;
    case 'ed25519':
      algorithm = 'ed25519';
      break;
    case 'rsa':
      bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw unprocessable(`an RSA key of ${bits} bits is too weak (at least ${MIN_RSA_BITS})`);
      algorithm = 'rsa';
      break;
    default:
      throw unprocessable(
        `a ${key.asymmetricKeyType ?? 'unknown'} key cannot verify signatures here (ECDSA P-256/P-384, Ed25519 or RSA)`,
      );
  }
  const der = key.export({ type: 'spki', format: 'der' });
  const hex = createHash('sha256').update(der).digest('hex');
  return {
    algorithm,
    ...(bits !== undefined ? { bits } : {}),
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: `sha256:${hex}`,
    id: `key_${hex.slice(0, 16)}`,
  };
}

type KeyRow = Pick<
  Database['trusted_keys'],
  'public_id' | 'algorithm' | 'fingerprint' | 'repository_pattern' | 'public_key_pem' | 'created_at' | 'revoked_at'
> & { id: number };

function viewOf(row: KeyRow): TrustedKeyView {
  const bits =
    row.algorithm === 'rsa'
      ? createPublicKey({ key: row.public_key_pem, format: 'pem' }).asymmetricKeyDetails?.modulusLength
      : undefined;
  return {
    id: row.public_id,
    algorithm: row.algorithm,
    ...(bits !== undefined ? { bits } : {}),
    fingerprint: row.fingerprint,
    repositoryPattern: row.repository_pattern,
    publicKey: row.public_key_pem,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    revokedAt: row.revoked_at === null ? null : new Date(Number(row.revoked_at)).toISOString(),
  };
}

const COLUMNS = [
  'id',
  'public_id',
  'algorithm',
  'fingerprint',
  'repository_pattern',
  'public_key_pem',
  'created_at',
  'revoked_at',
] as const;

async function findKey(db: Kysely<Database>, publicId: string): Promise<KeyRow | undefined> {
  if (!/^key_[0-9a-z_-]{1,60}$/i.test(publicId)) return undefined;
  const row = await db.selectFrom('trusted_keys').select(COLUMNS).where('public_id', '=', publicId).executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

function actorOf(caller: Caller): { kind: 'user' | 'token' | 'system'; id: number } {
  return { kind: caller.kind, id: caller.id };
}

function parseAddBody(body: unknown): { key: ParsedPublicKey; pattern: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProblemError(400, 'Bad Request', 'the body must be a JSON object');
  }
  const o = body as Record<string, unknown>;
  for (const field of Object.keys(o)) {
    if (field !== 'publicKey' && field !== 'repositoryPattern') {
      throw new ProblemError(400, 'Bad Request', `${field.slice(0, 64)}: is not a known field`, {
        code: 'invalid_field',
        field: field.slice(0, 64),
      });
    }
  }
  const pattern = o.repositoryPattern ?? '*';
  if (typeof pattern !== 'string') throw unprocessable('must be a string', 'repositoryPattern');
  const problem = repositoryPatternProblem(pattern);
  if (problem) throw unprocessable(problem, 'repositoryPattern');
  return { key: parseTrustedPublicKey(o.publicKey), pattern: pattern.toLowerCase() };
}

function readPageToken(text: unknown): number | null {
  if (text === undefined || text === '') return null;
  const m = typeof text === 'string' ? /^k(\d{1,15})$/.exec(text) : null;
  if (!m) {
    throw new ProblemError(400, 'Bad Request', 'page_token: not a token this server issued', {
      code: 'bad_parameter',
      parameter: 'page_token',
    });
  }
  return Number(m[1]);
}

export function registerTrustedKeyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/trusted-keys', async (request) => {
    requireAdmin(request);
    const query = (request.query ?? {}) as Record<string, unknown>;
    const limit = query.limit === undefined ? LIST_DEFAULT : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) {
      throw new ProblemError(400, 'Bad Request', `limit: an integer from 1 to ${LIST_MAX}`, {
        code: 'bad_parameter',
        parameter: 'limit',
      });
    }
    if (query.revoked !== undefined && query.revoked !== 'true' && query.revoked !== 'false') {
      throw new ProblemError(400, 'Bad Request', 'revoked: true or false', {
        code: 'bad_parameter',
        parameter: 'revoked',
      });
    }
    const before = readPageToken(query.page_token);
    let q = ctx.db
      .selectFrom('trusted_keys')
      .select(COLUMNS)
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (query.revoked !== 'true') q = q.where('revoked_at', 'is', null);
    if (before !== null) q = q.where('id', '<', before);
    const rows = (await q.execute()).map((r) => ({ ...r, id: Number(r.id) }));
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    const last = page[page.length - 1];
    return {
      items: page.map(viewOf),
      next_page_token: more && last ? `k${last.id}` : null,
      total: { count: page.length + (more ? 1 : 0), type: more ? ('AT_LEAST' as const) : ('EXACT' as const) },
    };
  });

  app.post('/api/v1/trusted-keys', async (request, reply) => {
    const caller = requireAdmin(request);
    const { key, pattern } = parseAddBody(request.body);
    const now = ctx.now();
    const add = () =>
      ctx.db.transaction().execute(async (trx) => {
        const existing = await trx
          .selectFrom('trusted_keys')
          .select(['id', 'public_id', 'revoked_at'])
          .where('fingerprint', '=', key.fingerprint)
          .executeTakeFirst();
        if (existing && existing.revoked_at === null) {
          throw new ProblemError(409, 'Conflict', `this key is already trusted as ${existing.public_id}`, {
            code: 'key_exists',
            id: existing.public_id,
          });
        }
        if (existing) {
          // the fingerprint is unique: a revoked key trusted again is the same row, active again
          await trx
            .updateTable('trusted_keys')
            .set({ revoked_at: null, repository_pattern: pattern, created_at: now })
            .where('id', '=', existing.id)
            .execute();
        } else {
          await trx
            .insertInto('trusted_keys')
            .values({
              public_id: key.id,
              repository_pattern: pattern,
              algorithm: key.algorithm,
              public_key_pem: key.pem,
              fingerprint: key.fingerprint,
              keyless_issuer: null,
              keyless_identity: null,
              revoked_at: null,
              created_at: now,
            })
            .execute();
        }
        await recordEvent(trx, {
          at: now,
          type: 'trusted_key.added',
          actor: actorOf(caller),
          requestId: request.id,
          data: { key: key.id, algorithm: key.algorithm, fingerprint: key.fingerprint, repositoryPattern: pattern },
        });
      });
    try {
      await add();
    } catch (err) {
      // two admins adding the same key at once: the second insert meets the unique fingerprint, and a second
      // attempt answers as any duplicate does (409)
      if (err instanceof ProblemError) throw err;
      const raced = await findKey(ctx.db, key.id);
      if (!raced) throw err;
      await add();
    }
    const row = await findKey(ctx.db, key.id);
    return reply.code(201).header('location', `/api/v1/trusted-keys/${key.id}`).send(viewOf(row!));
  });

  app.get<{ Params: { id: string } }>('/api/v1/trusted-keys/:id', async (request) => {
    requireAdmin(request);
    const row = await findKey(ctx.db, request.params.id);
    if (!row) throw new ProblemError(404, 'Not Found', `no trusted key ${request.params.id.slice(0, 64)}`);
    return viewOf(row);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/trusted-keys/:id', async (request, reply) => {
    const caller = requireAdmin(request);
    const row = await findKey(ctx.db, request.params.id);
    if (!row) throw new ProblemError(404, 'Not Found', `no trusted key ${request.params.id.slice(0, 64)}`);
    if (row.revoked_at === null) {
      const now = ctx.now();
      await ctx.db.transaction().execute(async (trx) => {
        await trx.updateTable('trusted_keys').set({ revoked_at: now }).where('id', '=', row.id).execute();
        await recordEvent(trx, {
          at: now,
          type: 'trusted_key.revoked',
          actor: actorOf(caller),
          requestId: request.id,
          data: { key: row.public_id, fingerprint: row.fingerprint, repositoryPattern: row.repository_pattern },
        });
      });
    }
    return reply.code(204).send();
  });
}
