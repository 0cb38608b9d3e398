import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { type BlobStore, DEFAULT_GC_AGE_MS, type GcResult } from './store.js';

/**
 * Removes the blobs no `artifacts` row refers to once they are a day old (SERVER.md section 4): the uploads of an
 * ingest that crashed before its transaction, or that was refused after its parts were stored. The day is what an
 * ingest may take between storing its blobs and committing the rows that name them. An ingest that uploads an
 * orphan's bytes again while it is being judged renews its date; the store's gc checks the date (and asks
 * `isReferenced` again) at the moment of deletion, so such a blob is kept (ContentAddressedStore.deleteUnlessRenewed).
 */
export async function collectOrphanBlobs(
  db: Kysely<Database>,
  blobs: BlobStore,
  now: number,
  olderThanMs: number = DEFAULT_GC_AGE_MS,
): Promise<GcResult> {
  return blobs.gc(
    async (sha256) =>
      (await db.selectFrom('artifacts').select('id').where('sha256', '=', sha256).executeTakeFirst()) !== undefined,
    olderThanMs,
    now,
  );
}
