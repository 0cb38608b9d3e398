import { createHash } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { blobKey } from '../blobs/index.js';
import { decodeJson, isPostgres } from '../db/dialect.js';
import type { Database, JobState } from '../db/schema.js';
import { GRAPHILE_SCHEMA } from '../jobs/graphile.js';
import { type EnqueueInput, enqueue, queuedJobRow } from '../jobs/queue.js';
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

/** What a bundle's acceptance needs: plain data, so it can be handed to the job thread as it is. */
export interface AcceptInput {
  metadata: IngestMetadata;
  parts: readonly StoredPart[];
  now: number;
  createdBy: string;
  source?: 'push' | 'pull';
}

/** Runs an acceptance somewhere else (the embedded mode's job thread) and answers with its outcome. */
export type AcceptWriter = (input: AcceptInput) => Promise<IngestAnswer>;

/**
 * The embedded mode's one writer (SQLite, role all): while a job thread runs, acceptances made through the API
 * thread's connection are handed to it (jobs/thread.ts registers it here for the API's `ctx.db`). SQLite has one
 * write lock per database: the API thread's accept transaction used to wait for it behind the job thread's
 * reconcile in better-sqlite3's busy handler, which sleeps synchronously, stalling the whole HTTP event loop, and
 * vice versa. On one connection the two queue in order, asynchronously, and neither sleeps. Keyed by the
 * connection (not a global switch), so test processes with several servers route each one to its own thread.
 */
const writers = new WeakMap<Kysely<Database>, AcceptWriter>();

/** Sends the acceptances made on `db` to `writer` (undefined: back to `db` itself). */
export function routeAccepts(db: Kysely<Database>, writer: AcceptWriter | undefined): void {
  if (writer) writers.set(db, writer);
  else writers.delete(db);
}

/**
 * Records a received bundle in ONE transaction: an `artifacts` row per new blob and the ingest job, so that the
 * 202 is sent only once both are durable and a crash before the commit leaves only orphan blobs. A bundle whose
 * dedupe key already has a job that did not fail (queued, running or succeeded) is a replay: 200 with that job and
 * no new rows. A failed or canceled one is tried again with a new job. In the embedded mode the transaction runs
 * on the job thread's connection (routeAccepts), which answers only after its commit: the same contract.
 */
export async function acceptBundle(db: Kysely<Database>, input: AcceptInput): Promise<IngestAnswer> {
  const writer = writers.get(db);
  if (writer) {
    const { metadata, parts, now, createdBy, source } = input;
    return writer({ metadata, parts, now, createdBy, ...(source ? { source } : {}) });
  }
  return acceptHere(db, input);
}

/** The acceptance's transaction on `db`: one multi-row insert of the artifacts, the replay check, the job. */
export async function acceptHere(db: Kysely<Database>, input: AcceptInput): Promise<IngestAnswer> {
  if (isPostgres(db)) {
    const answer = await acceptInOneStatement(db, input);
    if (answer) return answer;
  }
  return db.transaction().execute((trx) => acceptIn(trx, input));
}

/**
 * PostgreSQL: the whole acceptance as ONE statement (so one round trip and no BEGIN/COMMIT: a statement is its own
 * transaction): the replay check, the job row, its graphile job and the artifact rows (pointing at the new job) in
 * data-modifying CTEs. On this machine each round trip to a loopback PostgreSQL costs ~0.3 ms of the HTTP thread's
 * CPU in the socket write alone; the transaction took eight (docs/performance.md, "Server: ingest"). Undefined when
 * a concurrent acceptance of the same bundle made its job between our replay check and our insert: the caller then
 * runs the transaction, which reads that job back (the artifacts inserted here stay, as a replay's would).
 */
async function acceptInOneStatement(db: Kysely<Database>, input: AcceptInput): Promise<IngestAnswer | undefined> {
  const { job: spec, blobs } = acceptancePlan(input);
  const job = queuedJobRow(spec, input.now);
  const result = await sql<{ previous: string | null; created: string | null; graphile_jobs: string; fresh: string[] }>`
    with previous as (
      select id, public_id, state from jobs
      where dedupe_key = ${job.dedupe_key} and state not in ('failed', 'canceled')
      order by id desc limit 1
    ), created as (
      insert into jobs (public_id, kind, state, priority, dedupe_key, payload, max_attempts, run_at, parent_id,
        created_by, created_at)
      select ${job.public_id}, ${job.kind}, ${job.state}, ${job.priority}, ${job.dedupe_key}, ${job.payload}::jsonb,
        ${job.max_attempts}, ${job.run_at}, ${job.parent_id}::bigint, ${job.created_by}, ${job.created_at}
      where not exists (select 1 from previous)
      on conflict (dedupe_key) where state in ('queued', 'running') do nothing
      returning id, public_id, state
    ), graphile as (
      -- as addGraphileJob (jobs/graphile.ts) adds it for enqueue: one attempt more than the row allows
      select ${sql.id(GRAPHILE_SCHEMA)}.add_job(identifier => ${job.kind}::text,
        payload => json_build_object('jobId', created.id), max_attempts => ${job.max_attempts + 1}::int,
        job_key => ${job.dedupe_key}::text, priority => ${job.priority}::int) as job
      from created
    ), fresh as (
      insert into artifacts (sha256, kind, media_type, size, storage_key, first_job_id, created_at)
      select a.sha256, a.kind, a.media_type, a.size, a.storage_key, (select id from created), ${input.now}::bigint
      from unnest(${blobs.map((b) => b.sha256)}::text[], ${blobs.map((b) => b.kind)}::text[],
        ${blobs.map((b) => b.mediaType)}::text[], ${blobs.map((b) => b.size)}::bigint[],
        ${blobs.map((b) => blobKey(b.sha256))}::text[]) as a(sha256, kind, media_type, size, storage_key)
      on conflict (sha256) do nothing
      returning sha256
    )
    select (select row_to_json(previous) from previous) as previous,
      (select row_to_json(created) from created) as created,
      (select count(*) from graphile) as graphile_jobs,
      array(select sha256 from fresh) as fresh`.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error('the acceptance statement returned no row');
  // json comes back as text (db/connection.ts configures pg so, for both json and jsonb)
  const created = decodeJson<JobRef>(row.created);
  const answered = created ?? decodeJson<JobRef>(row.previous);
  if (!answered) return undefined;
  return answerOf(input, answered, created !== null, new Set(row.fresh));
}

/**
 * What both ways of accepting write: the ingest job (its dedupe key and payload) and one artifact row per distinct
 * blob (the first part with a hash describes it).
 */
function acceptancePlan(input: AcceptInput): { job: EnqueueInput & { dedupeKey: string }; blobs: StoredPart[] } {
  const { metadata, parts, now } = input;
  const dedupeKey = ingestDedupeKey(
    metadata.digest,
    parts.map((p) => p.sha256),
    metadata,
  );
  const distinct = new Map<string, StoredPart>();
  for (const part of parts) if (!distinct.has(part.sha256)) distinct.set(part.sha256, part);
  const payload: IngestJobPayload = {
    repository: metadata.repository,
    metadata,
    artifacts: parts.map((p) => ({ name: p.name, kind: p.kind, sha256: p.sha256, size: p.size })),
    receivedAt: now,
    source: input.source ?? 'push',
  };
  return {
    job: { kind: INGEST_JOB_KIND, payload, dedupeKey, createdBy: input.createdBy },
    blobs: [...distinct.values()],
  };
}

/** 202 with a new job, 200 with the job a replay joined; each part says whether its blob was new. */
function answerOf(
  input: AcceptInput,
  job: { public_id: string; state: JobState },
  created: boolean,
  fresh: ReadonlySet<string>,
): IngestAnswer {
  const { metadata, parts } = input;
  return {
    status: created ? 202 : 200,
    body: {
      job: { id: job.public_id, state: job.state, url: `/api/v1/jobs/${job.public_id}` },
      image: { digest: metadata.digest, url: `/api/v1/images/${metadata.digest}` },
      artifacts: parts.map((p) => ({ kind: p.kind, sha256: p.sha256, size: p.size, new: fresh.has(p.sha256) })),
    },
  };
}

/** A job row as the acceptance statement returns it (row_to_json). */
interface JobRef {
  id: number;
  public_id: string;
  state: JobState;
}

/** Acceptances waiting for one writer's next group commit. */
export interface AcceptGroups {
  /** Answers after the commit of the group this acceptance joined. */
  accept(input: AcceptInput): Promise<IngestAnswer>;
  /** Resolves once every acceptance handed over so far is committed (or has failed) and answered. */
  settled(): Promise<void>;
  /** How many transactions (commits, so fsyncs) the acceptances took so far. */
  readonly commits: number;
  /** Resolves once the acceptances waiting or being written now are committed (not those arriving later). */
  written(): Promise<void>;
}

/**
 * Group commit for the embedded mode's one writer: every commit is an fsync (synchronous=FULL), which is most of
 * an acceptance's time, so the acceptances that arrive while one group's transaction runs are written together
 * in the next transaction: one fsync for all of them, each answered only after that commit (the same contract as
 * acceptHere). A group that fails is retried one acceptance per transaction, so a bad bundle fails alone. Each
 * group asks for the connection as soon as it starts, so it queues before a job's next transaction, behind at most
 * the statement or transaction running now.
 */
export function groupAccepts(db: Kysely<Database>): AcceptGroups {
  type Waiting = { input: AcceptInput; resolve: (answer: IngestAnswer) => void; reject: (error: unknown) => void };
  let waiting: Waiting[] = [];
  let writing: Promise<void> | undefined;
  let commits = 0;
  const ended = () => {
    let end = () => {};
    const done = new Promise<void>((resolve) => {
      end = resolve;
    });
    return { done, end };
  };
  // the end of the group the waiting acceptances will form, and of the group being written now
  let next = ended();
  let current: Promise<void> | undefined;
  const writeGroup = async (group: Waiting[]): Promise<void> => {
    let answers: IngestAnswer[] | undefined;
    try {
      commits++;
      answers = await db.transaction().execute(async (trx) => {
        const out: IngestAnswer[] = [];
        for (const item of group) out.push(await acceptIn(trx, item.input));
        return out;
      });
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
    }
    if (answers) {
      for (const [i, item] of group.entries()) item.resolve(answers[i] as IngestAnswer);
      return;
    }
    for (const item of group) {
      commits++;
      await acceptHere(db, item.input).then(item.resolve, item.reject);
    }
  };
  const drain = async (): Promise<void> => {
    while (waiting.length > 0) {
      const group = waiting;
      waiting = [];
      const ending = next;
      next = ended();
      current = ending.done;
      await writeGroup(group);
      ending.end();
    }
    current = undefined;
    writing = undefined;
  };
  return {
    accept: (input) =>
      new Promise<IngestAnswer>((resolve, reject) => {
        waiting.push({ input, resolve, reject });
        // started after this turn's other messages are queued, so they join the first group too
        writing ??= Promise.resolve().then(drain);
      }),
    settled: async () => {
      while (writing) await writing;
    },
    get commits() {
      return commits;
    },
    written: async () => {
      await (waiting.length > 0 ? next.done : current);
    },
  };
}

/** The acceptance's statements inside the caller's transaction. */
async function acceptIn(trx: Transaction<Database>, input: AcceptInput): Promise<IngestAnswer> {
  const { job: spec, blobs } = acceptancePlan(input);
  const { now } = input;
  // the rows that were inserted are new
  const fresh = new Set<string>();
  if (blobs.length > 0) {
    const inserted = await trx
      .insertInto('artifacts')
      .values(
        blobs.map((part) => ({
          sha256: part.sha256,
          kind: part.kind,
          media_type: part.mediaType,
          size: part.size,
          storage_key: blobKey(part.sha256),
          first_job_id: null,
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.column('sha256').doNothing())
      .returning('sha256')
      .execute();
    for (const row of inserted) fresh.add(row.sha256);
  }
  const previous = await trx
    .selectFrom('jobs')
    .select(['id', 'public_id', 'state'])
    .where('dedupe_key', '=', spec.dedupeKey)
    .where('state', 'not in', ['failed', 'canceled'])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const job = previous
    ? { id: previous.id, public_id: previous.public_id, state: previous.state, created: false }
    : await enqueue(trx, now, spec).then((j) => ({
        id: j.id,
        public_id: j.publicId,
        state: j.state,
        created: j.created,
      }));
  if (job.created && fresh.size > 0) {
    await trx
      .updateTable('artifacts')
      .set({ first_job_id: job.id })
      .where('sha256', 'in', [...fresh])
      .where('first_job_id', 'is', null)
      .execute();
  }
  return answerOf(input, job, job.created, fresh);
}
