// The access matrix: EVERY operation in server/openapi/lading.yaml (read from the document, so a new route joins by
// being documented) × {no credentials, expired token, revoked token, a token without the operation's scope, a token
// of another team} answers as SERVER.md section 2 says: 401 without valid credentials, 403 without the scope, and
// 404 (never 403, never the data) for another team's repository. A token with the right scope on the right team
// is the control: it is never refused, so the matrix cannot pass by refusing everything.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { blobStoreOf } from '../src/api/read-common.js';
import { createApiToken, type Scope } from '../src/auth/index.js';
import { insertGrant, insertTeam, revokeApiToken } from '../src/auth/store.js';
import { type AuthTestServer, call, startAuthServer, T0 } from './helpers/auth-server.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase } from './helpers/server.js';

const DOC = parse(readFileSync(join(import.meta.dirname, '..', 'openapi', 'lading.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, { operationId?: string; 'x-lading-scope'?: string }>>;
};
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const SCOPE_VALUES = ['ingest', 'read', 'triage', 'admin', 'public'];

interface Operation {
  method: string;
  template: string;
  operationId: string;
  scope: string;
}

const OPERATIONS: Operation[] = Object.entries(DOC.paths).flatMap(([template, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, op]) => ({
      method: method.toUpperCase(),
      template,
      operationId: op.operationId ?? `${method} ${template}`,
      scope: op['x-lading-scope'] ?? '(missing)',
    })),
);

const DAY = 86_400_000;
const ALPHA_REPO = 'ghcr.io/alpha/app';
const ALPHA_DIGEST = `sha256:${'a1'.repeat(32)}`;
const ALPHA_REPORT = new TextEncoder().encode('{}');
let ALPHA_ARTIFACT = '';
const ALL: Scope[] = ['ingest', 'read', 'triage'];

/** A scope set that lacks `scope` (and, for ingest, read, which jobs also accept): the "wrong scope" token. */
function wrongScopes(scope: string): Scope[] {
  if (scope === 'admin') return ALL;
  if (scope === 'read') return ['ingest'];
  // every scope but the operation's own (a triage operation's "wrong" token must not hold triage)
  if (scope === 'triage') return ['ingest', 'read'];
  return ['triage'];
}

describe('the OpenAPI document', () => {
  it('declares x-lading-scope on every operation, with a known value', () => {
    assert.ok(OPERATIONS.length > 10, 'the document lists the operations');
    const bad = OPERATIONS.filter((o) => !SCOPE_VALUES.includes(o.scope)).map((o) => `${o.operationId}: ${o.scope}`);
    assert.deepEqual(bad, []);
  });
});

forEachDatabase((kind) => {
  describe('access matrix', () => {
    let s: AuthTestServer;
    let alphaTokenId = '';
    const tokens: Record<string, string> = {};

    before(async () => {
      s = await startAuthServer(kind, {
        rateLimits: { readsPerMinute: 100_000, ingestPerMinute: 100_000, loginPerMinute: 100_000 },
      });
      const db = s.ctx.db;
      ALPHA_ARTIFACT = (await blobStoreOf(s.ctx).put(ALPHA_REPORT, { maxBytes: 1024 })).sha256;
      const alpha = await insertTeam(db, 'alpha', T0);
      const beta = await insertTeam(db, 'beta', T0);
      await insertGrant(db, alpha.id, 'ghcr.io/alpha/*', T0);
      await insertGrant(db, beta.id, 'ghcr.io/beta/*', T0);
      await seedImages(db, [
        {
          digest: ALPHA_DIGEST,
          repository: ALPHA_REPO,
          tags: ['1.0'],
          at: T0,
          packages: [{ purl: 'pkg:apk/alpine/zlib@1.2.12-r0', type: 'apk', name: 'zlib', version: '1.2.12-r0' }],
          findings: [{ vuln: 'CVE-2022-37434', package: 'zlib', severity: 'CRITICAL' }],
          artifacts: [
            { sha256: ALPHA_ARTIFACT, kind: 'report-lading', role: 'report', mediaType: 'application/json', size: 2 },
          ],
          events: [{ type: 'image.ingested', at: T0 }],
        },
      ]);
      const mint = async (name: string, scopes: Scope[], team: number, expiresAt = T0 + 30 * DAY) =>
        createApiToken(s.ctx, { name, scopes, repositoryPattern: '*', expiresAt, ownerTeamId: team });
      const right = await mint('alpha all', ALL, alpha.id);
      alphaTokenId = right.id;
      tokens.alpha = right.token;
      tokens.beta = (await mint('beta all', ALL, beta.id)).token;
      tokens.expired = (await mint('alpha expired', ALL, alpha.id, T0 + 1000)).token;
      const revoked = await mint('alpha revoked', ALL, alpha.id);
      const row = await db
        .selectFrom('api_tokens')
        .select('id')
        .where('public_id', '=', revoked.id)
        .executeTakeFirstOrThrow();
      await revokeApiToken(db, row.id, T0);
      tokens.revoked = revoked.token;
      for (const scope of ['ingest', 'read', 'triage', 'admin']) {
        tokens[`wrong:${scope}`] = (await mint(`alpha without ${scope}`, wrongScopes(scope), alpha.id)).token;
      }
      s.clock.ms = T0 + DAY;
    });
    after(() => s.close());

    /** A concrete path for a template: alpha's own objects where the parameter names one. */
    function pathOf(template: string): { path: string; alphaScoped: boolean } {
      /** The value for a path parameter, and whether it names one of alpha's repository-scoped objects. */
      const parameterValue = (name: string): [string, boolean] => {
        if (name === 'digest') return [ALPHA_DIGEST, true];
        if (name === 'sha256') return [ALPHA_ARTIFACT, true];
        if (template.startsWith('/api/v1/repositories/')) return [encodeURIComponent(ALPHA_REPO), true];
        if (template.startsWith('/api/v1/tokens/')) return [alphaTokenId, true];
        if (template.startsWith('/api/v1/vulnerabilities/')) return ['CVE-2022-37434', false];
        if (template.startsWith('/api/v1/jobs/')) return [`job_${'0'.repeat(26)}`, false];
        if (name === 'team') return ['alpha', false];
        return ['x', false];
      };
      let alphaScoped = false;
      const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
        const [value, scoped] = parameterValue(name);
        alphaScoped ||= scoped;
        return value;
      });
      const query =
        template === '/api/v1/diff'
          ? `?from=${ALPHA_DIGEST}&to=previous`
          : template === '/api/v1/search'
            ? '?q=alpha'
            : '';
      return { path: path + query, alphaScoped };
    }

    /** The documented, guarded operations this server serves (a documented one it does not serve fails above). */
    const guarded = () =>
      OPERATIONS.filter(
        (o) =>
          o.scope !== 'public' &&
          s.app.hasRoute({ method: o.method as 'GET', url: o.template.replace(/\{([^}]+)\}/g, ':$1') }),
      );

    it('covers every documented operation: each one is served', () => {
      const documented = OPERATIONS.filter((o) => o.scope !== 'public');
      const missing = documented.filter((o) => !guarded().includes(o)).map((o) => o.operationId);
      assert.deepEqual(missing, [], 'documented operations without a route');
      assert.ok(
        guarded().some((o) => o.operationId === 'ingestBundle'),
        'routes in encapsulated scopes are seen',
      );
    });

    it('answers 401 without credentials, with an expired token and with a revoked token', async () => {
      const failures: string[] = [];
      for (const op of guarded()) {
        const { path } = pathOf(op.template);
        for (const who of ['none', 'expired', 'revoked'] as const) {
          const res = await call(s, op.method, path, {
            ...(who === 'none' ? {} : { token: tokens[who] }),
            body: op.method === 'GET' || op.method === 'DELETE' ? undefined : {},
          });
          if (res.status !== 401) failures.push(`${op.operationId} ${who}: ${res.status}`);
        }
      }
      assert.deepEqual(failures, []);
    });

    it("answers 403 to a token without the operation's scope", async () => {
      const failures: string[] = [];
      for (const op of guarded()) {
        const { path } = pathOf(op.template);
        const res = await call(s, op.method, path, {
          token: tokens[`wrong:${op.scope}`],
          body: op.method === 'GET' || op.method === 'DELETE' ? undefined : {},
        });
        if (res.status !== 403) failures.push(`${op.operationId} without ${op.scope}: ${res.status}`);
      }
      assert.deepEqual(failures, []);
    });

    it("answers 404 for another team's objects and never shows them; the owner's token is not refused", async () => {
      const failures: string[] = [];
      for (const op of guarded().filter((o) => o.scope !== 'admin')) {
        const { path, alphaScoped } = pathOf(op.template);
        const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : {};
        const other = await call(s, op.method, path, { token: tokens.beta, body });
        if (alphaScoped && other.status !== 404)
          failures.push(`${op.operationId} as beta: ${other.status}, expected 404`);
        if (other.status === 401 || other.status >= 500) failures.push(`${op.operationId} as beta: ${other.status}`);
        // A 404 may echo the id the caller sent; any other answer must not carry alpha's names.
        if (other.status !== 404 && (other.text.includes(ALPHA_DIGEST) || other.text.includes(ALPHA_REPO)))
          failures.push(`${op.operationId} as beta shows alpha's data`);
        // The control: alpha's own token (team tokens cannot mint or list tokens, so those answer 403/404 by rule).
        if (op.template.startsWith('/api/v1/tokens')) continue;
        const own = await call(s, op.method, path, { token: tokens.alpha, body });
        if (own.status === 401 || own.status === 403 || own.status >= 500)
          failures.push(`${op.operationId} as alpha: ${own.status}`);
        if (alphaScoped && op.method === 'GET' && own.status !== 200) {
          failures.push(`${op.operationId} as alpha: ${own.status}, expected 200`);
        }
      }
      assert.deepEqual(failures, []);
    });

    it('keeps the admin operations for admins only', async () => {
      for (const op of guarded().filter((o) => o.scope === 'admin')) {
        const { path } = pathOf(op.template);
        // GET and HEAD carry no body (fetch refuses one)
        const body = op.method === 'GET' || op.method === 'HEAD' ? undefined : {};
        const asTeam = await call(s, op.method, path, { token: tokens.alpha, body });
        assert.equal(asTeam.status, 403, `${op.operationId} as a team token`);
        const asAdmin = await call(s, op.method, path, { token: s.adminToken, body });
        assert.ok(
          ![401, 403].includes(asAdmin.status) && asAdmin.status < 500,
          `${op.operationId} as admin: ${asAdmin.status}`,
        );
      }
    });
  });
});
