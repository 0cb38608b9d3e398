// An image's counters (critical…unknown, suppressed, has_kev, risk_index) recounted from its findings rows, in the
// transaction that changed them (SERVER.md section 1, "Counters"): lists and cards read the counters, never the rows.
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { riskIndexOf } from '../ingest/process.js';

const SEVERITY_COLUMNS = { CRITICAL: 'critical', HIGH: 'high', MEDIUM: 'medium', LOW: 'low' } as const;

export async function recountImages(trx: Transaction<Database>, imageIds: readonly number[]): Promise<void> {
  for (const imageId of new Set(imageIds)) {
    const rows = await trx
      .selectFrom('findings as f')
      .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
      .select(['f.status', 'f.severity', 'v.kev'])
      .where('f.image_id', '=', imageId)
      .where('f.status', '!=', 'resolved')
      .execute();
    const counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
    let suppressed = 0;
    let kev = false;
    for (const r of rows) {
      if (r.status === 'suppressed') {
        suppressed++;
        continue;
      }
      counts[SEVERITY_COLUMNS[r.severity as keyof typeof SEVERITY_COLUMNS] ?? 'unknown']++;
      if (Number(r.kev) === 1) kev = true;
    }
    await trx
      .updateTable('images')
      .set({ ...counts, suppressed, has_kev: kev ? 1 : 0, risk_index: riskIndexOf(counts) })
      .where('id', '=', imageId)
      .execute();
  }
}
