// The server's exceptions applied to a new analysis. An exception (POST /exceptions or a VEX import) is a decision
// about a vulnerability in a repository, not about the rows that existed when it was made: the next build of the
// repository, or a re-ingest of the same digest, must come out with the same findings suppressed. CI does not know
// the server's exceptions, so its report says "open"; the ingest judges the report again here, inside the reconcile
// transaction, before counters, findings and exposures are written from it.
import type { Finding, Report } from '@lading/engine/model';
import type { Kysely } from 'kysely';
import { decodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';

export interface JudgedReport {
  readonly report: Report;
  /** `packageId \n finding id` → the exceptions row that suppresses it. */
  readonly exceptionOf: ReadonlyMap<string, number>;
}

export function findingKey(f: Pick<Finding, 'packageId' | 'id'>): string {
  return `${f.packageId}\n${f.id}`;
}

/**
 * The active (not revoked, not expired at `now`) exceptions of `repositoryId`, and of the other repositories the image
 * is already placed in, that apply to the image `digest`,
 * laid over `report`: a finding they cover is marked suppressed with the exception's reason. One statement; a
 * repository without exceptions gets the report back unchanged.
 */
export async function applyServerExceptions(
  db: Kysely<Database>,
  repositoryId: number,
  digest: string,
  report: Report,
  now: number,
): Promise<JudgedReport> {
  const rows = await db
    .selectFrom('exceptions as x')
    .innerJoin('vulnerabilities as v', 'v.id', 'x.vulnerability_id')
    .select(['x.id', 'x.image_digest', 'x.package_pattern', 'x.status', 'x.reason', 'x.expires_at', 'x.source'])
    .select(['v.vuln_id', 'v.aliases'])
    // the image's findings are one set for every repository it is placed in, so every one of those repositories'
    // exceptions counts (as creating an exception suppresses the findings of every image placed in its repository)
    .where((eb) =>
      eb.or([
        eb('x.repository_id', '=', repositoryId),
        eb(
          'x.repository_id',
          'in',
          eb
            .selectFrom('repository_images as ri')
            .innerJoin('images as i', 'i.id', 'ri.image_id')
            .select('ri.repository_id')
            .where('i.digest', '=', digest),
        ),
      ]),
    )
    .where('x.revoked_at', 'is', null)
    .where('x.expires_at', '>', now)
    .where((eb) => eb.or([eb('x.image_digest', 'is', null), eb('x.image_digest', '=', digest)]))
    .orderBy('x.id')
    .execute();
  if (rows.length === 0) return { report, exceptionOf: new Map() };
  // every id an exception names (the vulnerability's own and its aliases) → the exceptions naming it, oldest first
  const byId = new Map<string, typeof rows>();
  for (const row of rows) {
    const ids = new Set([row.vuln_id, ...(decodeJson<string[]>(row.aliases) ?? [])]);
    for (const id of ids) byId.set(id, [...(byId.get(id) ?? []), row]);
  }
  const exceptionOf = new Map<string, number>();
  const findings = report.findings.map((f) => {
    if (f.suppressed) return f;
    const candidates = [f.id, ...f.aliases].flatMap((id) => byId.get(id) ?? []);
    const name = f.package.name.toLowerCase();
    const match = candidates.find((x) => x.package_pattern === null || x.package_pattern.toLowerCase() === name);
    if (!match) return f;
    exceptionOf.set(findingKey(f), Number(match.id));
    return {
      ...f,
      suppressed: {
        kind: match.source === 'vex' ? 'vex' : 'policy-exception',
        reason: match.reason,
        source: `server exception ${match.status}`,
        expires: new Date(Number(match.expires_at)).toISOString(),
      },
    };
  });
  return exceptionOf.size === 0 ? { report, exceptionOf } : { report: { ...report, findings }, exceptionOf };
}
