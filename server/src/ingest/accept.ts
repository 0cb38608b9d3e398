import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { blobKey } from '../blobs/index.js';
import type { Database, JobState } from '../db/schema.js';
import { enqueue } from '../jobs/queue.js';
import type { IngestMetadata } from './metadata.js';
import type { StoredPart } from './multipart.js';

export const INGEST_JOB_KIND = 'ingest';

/** What the ingest job reads: the metadata and the stored artifacts, by hash (the bytes are in the blob store). */
export interface IngestJobPayload {
  /** Top level, as every job about a repository has it: who may read the job is decided by it. */
  repository: string;
  metadata: IngestMetadata;
  artifacts: { name: StoredPart['name']; kind: StoredPart['kind']; sha256: string; size: number }[];
  /** When the server acknowledged the bundle (epoch ms): the observation time unless the metadata gives one. */
  receivedAt: number;
  /** How the evidence arrived: pushed by the client, or pulled from the registry by the server. */
  source: 'push' | 'pull';
}

/** The answer to an accepted ingest (SERVER.md section 2): 202 for a new job, 200 for a replay of one. */
export interface IngestAnswer {
  status: 200 | 202;
  body: {
    job: { id: string; state: JobState; url: string };
    image: { digest: string; url: string };
    artifacts: { kind: string; sha256: string; size: number; new: boolean }[];
  };
}

/**
 * `ingest:<digest>:<sha256 of the sorted artifact hashes, then the repository, track and sorted tags>`: the same
 * evidence for the same image, placed the same way, is one job (SERVER.md gives only the digest and the artifact
 * hashes; the placement joins them so that the same evidence pushed for another repository, or with a new tag, is
 * ingested rather than taken for a replay). `observedAt` and the CI facts stay out: a retried CI step is a replay.
 */
export function ingestDedupeKey(
  digest: string,
  sha256s: readonly string[],
  placement: { repository: string; track: string; tags: readonly string[] },
): string {
  const lines = [
    ...[...new Set(sha256s)].sort(),
    `repository ${placement.repository}`,
    `track ${placement.track}`,
    ...[...new Set(placement.tags)].sort().map((t) => `tag ${t}`),
  ];
  return `ingest:${digest}:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}

/**
 * Records a received bundle in ONE transaction: an `artifacts` row per new blob and the ingest job, so that the
 * 202 is sent only once both are durable and a crash before the commit leaves only orphan blobs. A bundle whose
 * dedupe key already has a job that did not fail (queued, running or succeeded) is a replay: 200 with that job and
 * no new rows. A failed or canceled one is tried again with a new job.
 */
export async function acceptBundle(
  db: Kysely<Database>,
  input: {
    metadata: IngestMetadata;
    parts: readonly StoredPart[];
    now: number;
    createdBy: string;
    source?: 'push' | 'pull';
  },
): Promise<IngestAnswer> {
  const { metadata, parts, now } = input;
  const dedupeKey = ingestDedupeKey(
    metadata.digest,
    parts.map((p) => p.sha256),
    metadata,
  );
  return db.transaction().execute(async (trx) => {
    const fresh = new Set<string>();
    for (const part of parts) {
      const inserted = await trx
        .insertInto('artifacts')
        .values({
          sha256: part.sha256,
          kind: part.kind,
          media_type: part.mediaType,
          size: part.size,
          storage_key: blobKey(part.sha256),
          first_job_id: null,
          created_at: now,
        })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) fresh.add(part.sha256);
    }
    const previous = await trx
      .selectFrom('jobs')
      .select(['id', 'public_id', 'state'])
      .where('dedupe_key', '=', dedupeKey)
      .where('state', 'not in', ['failed', 'canceled'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    let job: { id: number; publicId: string; state: JobState; created: boolean };
    if (previous) {
      job = { id: previous.id, publicId: previous.public_id, state: previous.state, created: false };
    } else {
      const payload: IngestJobPayload = {
        repository: metadata.repository,
        metadata,
        artifacts: parts.map((p) => ({ name: p.name, kind: p.kind, sha256: p.sha256, size: p.size })),
        receivedAt: now,
        source: input.source ?? 'push',
      };
      job = await enqueue(trx, now, { kind: INGEST_JOB_KIND, payload, dedupeKey, createdBy: input.createdBy });
    }
    if (job.created && fresh.size > 0) {
      await trx
        .updateTable('artifacts')
        .set({ first_job_id: job.id })
        .where('sha256', 'in', [...fresh])
        .where('first_job_id', 'is', null)
        .execute();
    }
    return {
      status: job.created ? 202 : 200,
      body: {
        job: { id: job.publicId, state: job.state, url: `/api/v1/jobs/${job.publicId}` },
        image: { digest: metadata.digest, url: `/api/v1/images/${metadata.digest}` },
        artifacts: parts.map((p) => ({ kind: p.kind, sha256: p.sha256, size: p.size, new: fresh.has(p.sha256) })),
      },
    };
  });
}
