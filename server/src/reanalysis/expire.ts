// The hourly `exceptions.expire` job (SERVER.md section 3): an exception (manual or from VEX) that passed its
// `expires_at` stops suppressing. Its findings open again and count again (the image counters change in the same
// transaction), and one `exception.expired` event says so. Exceptions expiring within a week are listed once a
// day in one `exceptions.expiring` digest event, for the notification rules to deliver. State-based and idempotent:
// an exception's expiry is done when its event exists; a day's digest when that day's event exists.
import type { ServerContext } from '../context.js';
import { recordEvent, SYSTEM_ACTOR } from '../events/index.js';
import type { Schedule } from '../jobs/schedules.js';
import { recountImages } from './counters.js';

export const EXCEPTIONS_EXPIRE = 'exceptions.expire';
export const EXCEPTIONS_SCHEDULES: readonly Schedule[] = [
  { name: EXCEPTIONS_EXPIRE, cron: '7 * * * *', kind: EXCEPTIONS_EXPIRE },
];
/** How far ahead the digest looks. */
export const EXPIRING_SOON_MS = 7 * 86_400_000;
/** Exceptions named in one digest event at most (the count is always exact). */
const DIGEST_LIST_CAP = 500;
const DAY_MS = 86_400_000;

export interface ExpireResult {
  readonly expired: number;
  readonly reopenedFindings: number;
  readonly expiringSoon: number;
}

export async function expireExceptions(ctx: ServerContext): Promise<ExpireResult> {
  const now = ctx.now();
  const due = await ctx.db
    .selectFrom('exceptions as x')
    .leftJoin('vulnerabilities as v', 'v.id', 'x.vulnerability_id')
    .select([
      'x.id',
      'x.public_id',
      'x.vulnerability_id',
      'x.repository_id',
      'x.image_digest',
      'x.expires_at',
      'x.source',
      'v.vuln_id',
    ])
    .where('x.expires_at', '<=', now)
    .where('x.revoked_at', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('events as e')
            .select('e.id')
            .where('e.type', '=', 'exception.expired')
            .whereRef('e.request_id', '=', 'x.public_id'),
        ),
      ),
    )
    .orderBy('x.id')
    .execute();
  let reopened = 0;
  for (const x of due) {
    reopened += await ctx.db.transaction().execute(async (trx) => {
      const findings = await trx
        .selectFrom('findings')
        .select(['id', 'image_id'])
        .where('exception_id', '=', x.id)
        .where('status', '=', 'suppressed')
        .execute();
      if (findings.length > 0) {
        await trx
          .updateTable('findings')
          .set({ status: 'open', exception_id: null, last_seen_at: now })
          .where('exception_id', '=', x.id)
          .where('status', '=', 'suppressed')
          .execute();
        await recountImages(
          trx,
          findings.map((f) => Number(f.image_id)),
        );
      }
      await recordEvent(trx, {
        at: now,
        type: 'exception.expired',
        actor: SYSTEM_ACTOR,
        repositoryId: x.repository_id,
        vulnerabilityId: x.vulnerability_id,
        requestId: x.public_id,
        data: {
          exception: x.public_id,
          vulnerability: x.vuln_id,
          source: x.source,
          imageDigest: x.image_digest,
          expiredAt: new Date(Number(x.expires_at)).toISOString(),
          reopenedFindings: findings.length,
          images: new Set(findings.map((f) => Number(f.image_id))).size,
        },
      });
      return findings.length;
    });
  }
  const expiringSoon = await expiringDigest(ctx, now);
  return { expired: due.length, reopenedFindings: reopened, expiringSoon };
}

/** One digest per UTC day listing what expires within EXPIRING_SOON_MS; none when nothing does. */
async function expiringDigest(ctx: ServerContext, now: number): Promise<number> {
  const day = new Date(now - (now % DAY_MS)).toISOString().slice(0, 10);
  const key = `exceptions-expiring:${day}`;
  const soon = await ctx.db
    .selectFrom('exceptions as x')
    .leftJoin('vulnerabilities as v', 'v.id', 'x.vulnerability_id')
    .leftJoin('repositories as r', 'r.id', 'x.repository_id')
    .select(['x.public_id', 'x.expires_at', 'x.owner_user_id', 'x.image_digest', 'v.vuln_id', 'r.name as repository'])
    .where('x.expires_at', '>', now)
    .where('x.expires_at', '<=', now + EXPIRING_SOON_MS)
    .where('x.revoked_at', 'is', null)
    .orderBy('x.expires_at')
    .orderBy('x.id')
    .execute();
  if (soon.length === 0) return 0;
  await ctx.db.transaction().execute(async (trx) => {
    const sent = await trx
      .selectFrom('events')
      .select('id')
      .where('type', '=', 'exceptions.expiring')
      .where('request_id', '=', key)
      .executeTakeFirst();
    if (sent) return;
    await recordEvent(trx, {
      at: now,
      type: 'exceptions.expiring',
      actor: SYSTEM_ACTOR,
      requestId: key,
      data: {
        day,
        count: soon.length,
        exceptions: soon.slice(0, DIGEST_LIST_CAP).map((x) => ({
          exception: x.public_id,
          vulnerability: x.vuln_id,
          repository: x.repository,
          imageDigest: x.image_digest,
          ownerUserId: x.owner_user_id,
          expiresAt: new Date(Number(x.expires_at)).toISOString(),
        })),
      },
    });
  });
  return soon.length;
}
