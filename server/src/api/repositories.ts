// GET /api/v1/repositories and /api/v1/repositories/{id} (scope read): tag history and the current digest per track.
// GET /api/v1/repositories/{id}/settings (read: the dashboard's cards need the thresholds) and PATCH
// /api/v1/repositories/{id} (admin): the repository's verification policy (SERVER.md section 7: mode
// off|warn|enforce, trusted key ids, allowed builders, source repositories and refs), which the ingest job reads from
// `repositories.settings.verification` (ingest/process.ts verificationPolicyOf), and the severity thresholds the
// dashboard colours its cards by (`settings.thresholds`). Other keys of `settings` are kept as they are.
import type { FastifyInstance } from 'fastify';
import { type Caller, callerMayAccess, requireAdmin, requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { decodeJson, encodeJson } from '../db/dialect.js';
import { recordEvent } from '../events/index.js';
import { ProblemError } from '../http/problem.js';
import { verificationPolicyOf } from '../ingest/process.js';
import { repositoryExposures } from '../queries/exposures.js';
import { listRepositories, repositoryDetail } from '../queries/repositories.js';
import { badParameter, notFound, pageRequest, queryOf, readScope, readTimed, stringParam } from './read-common.js';

export const VERIFICATION_MODES = ['off', 'warn', 'enforce'] as const;
export const THRESHOLD_LEVELS = ['critical', 'high', 'medium', 'low', 'none'] as const;
type ThresholdLevel = (typeof THRESHOLD_LEVELS)[number];
const LIST_FIELDS = ['keys', 'allowedBuilders', 'sourceRepos', 'refs'] as const;
const MAX_LIST = 50;
const MAX_ITEM = 512;

/** The CLI's default gate (`--fail-on high`), and a warning one step below it. */
export const DEFAULT_THRESHOLDS = { failOn: 'high', warnOn: 'medium' } as const;

export interface RepositorySettingsView {
  repository: string;
  verification: {
    mode: (typeof VERIFICATION_MODES)[number];
    keys: string[];
    allowedBuilders: string[];
    sourceRepos: string[];
    refs: string[];
  };
  thresholds: { failOn: ThresholdLevel; warnOn: ThresholdLevel };
}

/** Severity rank for comparing thresholds: a lower number is more severe; `none` never trips. */
const RANK: Record<ThresholdLevel, number> = { critical: 0, high: 1, medium: 2, low: 3, none: 4 };

function thresholdOf(value: unknown, fallback: ThresholdLevel): ThresholdLevel {
  return THRESHOLD_LEVELS.includes(value as ThresholdLevel) ? (value as ThresholdLevel) : fallback;
}

/** The settings as the API shows them: the stored JSON with every default filled in. */
export function settingsView(name: string, settingsJson: string | null | undefined): RepositorySettingsView {
  const policy = verificationPolicyOf(settingsJson ?? '{}');
  const stored = decodeJson<{ thresholds?: Record<string, unknown> }>(settingsJson ?? '{}') ?? {};
  return {
    repository: name,
    verification: {
      mode: policy.mode,
      keys: [...(policy.keys ?? [])],
      allowedBuilders: [...(policy.allowedBuilders ?? [])],
      sourceRepos: [...(policy.sourceRepos ?? [])],
      refs: [...(policy.refs ?? [])],
    },
    thresholds: {
      failOn: thresholdOf(stored.thresholds?.failOn, DEFAULT_THRESHOLDS.failOn),
      warnOn: thresholdOf(stored.thresholds?.warnOn, DEFAULT_THRESHOLDS.warnOn),
    },
  };
}

function invalid(field: string, detail: string, status: 400 | 422 = 400): ProblemError {
  return new ProblemError(status, status === 400 ? 'Bad Request' : 'Unprocessable Content', `${field}: ${detail}`, {
    code: 'invalid_field',
    field,
  });
}

function objectOf(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'must be an object');
  return value as Record<string, unknown>;
}

function onlyKnown(o: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw invalid(`${prefix}${key.slice(0, 64)}`, 'is not a known field');
  }
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of strings');
  if (value.length > MAX_LIST) throw invalid(field, `at most ${MAX_LIST} entries`);
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || item.trim() === '') throw invalid(field, 'entries must be non-empty strings');
    if (item.length > MAX_ITEM) throw invalid(field, `entries are at most ${MAX_ITEM} characters`);
    if (!out.includes(item.trim())) out.push(item.trim());
  }
  return out;
}

/** The settings after applying a PATCH body to `current`; throws a 400 naming the first bad field. */
export function applySettingsPatch(current: RepositorySettingsView, body: unknown): RepositorySettingsView {
  const o = objectOf(body, 'body');
  onlyKnown(o, ['verification', 'thresholds'], '');
  const next: RepositorySettingsView = {
    repository: current.repository,
    verification: { ...current.verification },
    thresholds: { ...current.thresholds },
  };
  if (o.verification !== undefined) {
    const v = objectOf(o.verification, 'verification');
    onlyKnown(v, ['mode', ...LIST_FIELDS], 'verification.');
    if (v.mode !== undefined) {
      if (!VERIFICATION_MODES.includes(v.mode as never)) {
        throw invalid('verification.mode', `must be one of ${VERIFICATION_MODES.join(', ')}`);
      }
      next.verification.mode = v.mode as RepositorySettingsView['verification']['mode'];
    }
    for (const field of LIST_FIELDS) {
      if (v[field] !== undefined) next.verification[field] = stringList(v[field], `verification.${field}`);
    }
  }
  if (o.thresholds !== undefined) {
    const t = objectOf(o.thresholds, 'thresholds');
    onlyKnown(t, ['failOn', 'warnOn'], 'thresholds.');
    for (const field of ['failOn', 'warnOn'] as const) {
      if (t[field] === undefined) continue;
      if (!THRESHOLD_LEVELS.includes(t[field] as ThresholdLevel)) {
        throw invalid(`thresholds.${field}`, `must be one of ${THRESHOLD_LEVELS.join(', ')}`);
      }
      next.thresholds[field] = t[field] as ThresholdLevel;
    }
    if (RANK[next.thresholds.warnOn] < RANK[next.thresholds.failOn]) {
      throw invalid('thresholds.warnOn', `may not be above failOn (${next.thresholds.failOn})`);
    }
  }
  return next;
}

/** What changed, field by field (`verification.mode: {from, to}`): the event's data; empty when nothing did. */
function changesOf(before: RepositorySettingsView, after: RepositorySettingsView): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const section of ['verification', 'thresholds'] as const) {
    const a = before[section] as Record<string, unknown>;
    const b = after[section] as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key]))
        changes[`${section}.${key}`] = { from: a[key], to: b[key] };
    }
  }
  return changes;
}

async function findRepository(
  ctx: ServerContext,
  raw: string,
): Promise<{ id: number; name: string; settings: string } | undefined> {
  if (raw.length > 255) return undefined;
  const row = await ctx.db
    .selectFrom('repositories')
    .select(['id', 'name', 'settings'])
    .where((eb) => eb.or([eb('public_id', '=', raw), eb('name_lc', '=', raw.toLowerCase())]))
    .executeTakeFirst();
  return row ? { id: Number(row.id), name: row.name, settings: String(row.settings ?? '{}') } : undefined;
}

function actorOf(caller: Caller): { kind: 'user' | 'token' | 'system'; id: number } {
  return { kind: caller.kind, id: caller.id };
}

export function registerRepositoryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/repositories', async (request) => {
    const scope = await readScope(request, ctx);
    const query = queryOf(request);
    const name = stringParam(query, 'name', 255);
    return readTimed(ctx, (db) =>
      listRepositories(db, scope, name !== undefined ? { name } : {}, pageRequest(query, ctx)),
    );
  });

  app.get<{ Params: { id: string } }>('/api/v1/repositories/:id', async (request) => {
    const scope = await readScope(request, ctx);
    const id = request.params.id;
    const detail = id.length <= 255 ? await readTimed(ctx, (db) => repositoryDetail(db, scope, id)) : undefined;
    if (!detail) throw notFound(`repository ${id.slice(0, 255)}`);
    return detail;
  });

  app.get<{ Params: { id: string } }>('/api/v1/repositories/:id/exposures', async (request) => {
    const caller = requireScope(request, 'read');
    const repo = await findRepository(ctx, request.params.id);
    // outside the caller's repositories: as unknown (existence does not leak)
    if (!repo || !callerMayAccess(caller, repo.name)) throw notFound(`repository ${request.params.id.slice(0, 255)}`);
    const query = queryOf(request);
    const state = stringParam(query, 'state', 10);
    if (state !== undefined && state !== 'open' && state !== 'resolved')
      throw badParameter('state', `${JSON.stringify(state)} is not open or resolved`);
    const limitText = stringParam(query, 'limit', 4);
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw badParameter('limit', 'a whole number from 1 to 500');
    const items = await readTimed(ctx, (db) =>
      repositoryExposures(db, repo.id, { limit, ...(state !== undefined ? { state } : {}) }),
    );
    return { items };
  });

  app.get<{ Params: { id: string } }>('/api/v1/repositories/:id/settings', async (request) => {
    const caller = requireScope(request, 'read');
    const repo = await findRepository(ctx, request.params.id);
    // outside the caller's repositories: as unknown (existence does not leak)
    if (!repo || !callerMayAccess(caller, repo.name)) throw notFound(`repository ${request.params.id.slice(0, 255)}`);
    return settingsView(repo.name, repo.settings);
  });

  app.patch<{ Params: { id: string } }>('/api/v1/repositories/:id', async (request) => {
    const caller = requireAdmin(request);
    const repo = await findRepository(ctx, request.params.id);
    if (!repo) throw notFound(`repository ${request.params.id.slice(0, 255)}`);
    const now = ctx.now();
    return ctx.db.transaction().execute(async (trx) => {
      // read again inside the transaction: two admins patching different fields must not undo each other
      const row = await trx
        .selectFrom('repositories')
        .select('settings')
        .where('id', '=', repo.id)
        .executeTakeFirstOrThrow();
      const stored = decodeJson<Record<string, unknown>>(String(row.settings ?? '{}')) ?? {};
      const before = settingsView(repo.name, String(row.settings ?? '{}'));
      const after = applySettingsPatch(before, request.body);
      const unknownKeys: string[] = [];
      for (const keyId of after.verification.keys) {
        if (before.verification.keys.includes(keyId)) continue;
        const key = await trx
          .selectFrom('trusted_keys')
          .select('id')
          .where('public_id', '=', keyId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (!key) unknownKeys.push(keyId.slice(0, 64));
      }
      if (unknownKeys.length > 0) {
        throw invalid('verification.keys', `no active trusted key ${unknownKeys.join(', ')}`, 422);
      }
      const changes = changesOf(before, after);
      if (Object.keys(changes).length === 0) return after;
      const settings = {
        ...stored,
        verification: {
          ...((stored.verification as Record<string, unknown> | undefined) ?? {}),
          ...after.verification,
        },
        thresholds: after.thresholds,
      };
      await trx
        .updateTable('repositories')
        .set({ settings: encodeJson(settings) })
        .where('id', '=', repo.id)
        .execute();
      await recordEvent(trx, {
        at: now,
        type: 'repository.settings_changed',
        actor: actorOf(caller),
        repositoryId: repo.id,
        requestId: request.id,
        data: { repository: repo.name, changes },
      });
      return after;
    });
  });
}
