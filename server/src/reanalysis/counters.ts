// An image's counters (critical…unknown, suppressed, has_kev, risk_index) recounted from its findings rows, in the
// transaction that changed them (SERVER.md section 1, "Counters"): lists and cards read the counters, never the rows.
// One grouped read for many images (re-analysis recounts a batch of hundreds at once), then one update per image
// (on PostgreSQL one update for all of them, from arrays).
import { sql, type Transaction } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { riskIndexOf } from '../ingest/process.js';

const SEVERITY_COLUMNS = { CRITICAL: 'critical', HIGH: 'high', MEDIUM: 'medium', LOW: 'low' } as const;
/** Image ids per grouped read (bound parameters stay far below both engines' limits). */
const IMAGES_PER_READ = 1_000;

interface Counters {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  suppressed: number;
  kev: boolean;
}

export async function recountImages(trx: Transaction<Database>, imageIds: readonly number[]): Promise<void> {
  const ids = [...new Set(imageIds)];
  for (let i = 0; i < ids.length; i += IMAGES_PER_READ) {
    const slice = ids.slice(i, i + IMAGES_PER_READ);
    const counters = new Map<number, Counters>(
      slice.map((id) => [id, { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, suppressed: 0, kev: false }]),
    );
    const rows = await trx
      .selectFrom('findings as f')
      .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
      .select((eb) => ['f.image_id', 'f.status', 'f.severity', 'v.kev', eb.fn.countAll<number | string>().as('n')])
      .where('f.image_id', 'in', slice)
      .where('f.status', '!=', 'resolved')
      .groupBy(['f.image_id', 'f.status', 'f.severity', 'v.kev'])
      .execute();
    for (const r of rows) {
      const c = counters.get(Number(r.image_id));
      if (!c) continue;
      const n = Number(r.n);
      if (r.status === 'suppressed') {
        c.suppressed += n;
        continue;
      }
      c[SEVERITY_COLUMNS[r.severity as keyof typeof SEVERITY_COLUMNS] ?? 'unknown'] += n;
      if (Number(r.kev) === 1) c.kev = true;
    }
    if (isPostgres(trx)) {
      // one statement for the slice: the new counters as arrays, joined to the images by id
      const list = [...counters];
      const column = (f: (c: Counters) => number) => list.map(([, c]) => f(c));
      await sql`update images as i set critical = v.critical, high = v.high, medium = v.medium, low = v.low,
          unknown = v.unknown, suppressed = v.suppressed, has_kev = v.has_kev, risk_index = v.risk_index
        from unnest(${list.map(([id]) => id)}::bigint[], ${column((c) => c.critical)}::int[],
          ${column((c) => c.high)}::int[], ${column((c) => c.medium)}::int[], ${column((c) => c.low)}::int[],
          ${column((c) => c.unknown)}::int[], ${column((c) => c.suppressed)}::int[],
          ${column((c) => (c.kev ? 1 : 0))}::int[], ${column((c) => riskIndexOf(c))}::float8[])
          as v(id, critical, high, medium, low, unknown, suppressed, has_kev, risk_index)
        where i.id = v.id`.execute(trx);
      continue;
    }
    for (const [imageId, c] of counters) {
      const { kev, suppressed, ...counts } = c;
      await trx
        .updateTable('images')
        .set({ ...counts, suppressed, has_kev: kev ? 1 : 0, risk_index: riskIndexOf(counts) })
        .where('id', '=', imageId)
        .execute();
    }
  }
}
