import type { Readable } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';
// the type import also brings @fastify/multipart's request.parts() and isMultipart() declarations
import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import {
  type ArtifactKind,
  acceptsMediaType,
  classifyPart,
  isPartName,
  isRepeatable,
  PART_NAMES,
  type PartName,
} from './bundle.js';
import type { IngestLimits } from './limits.js';
import { type IngestMetadata, parseMetadata, validateMetadata } from './metadata.js';
import { IngestRefusal, oneLine, refuse } from './refusal.js';

/** The part of the blob store ingest writes to (server/src/blobs: content-addressed, hashed on the way in). */
export interface BlobSink {
  put(
    body: Readable | Uint8Array,
    opts: { maxBytes: number; expectedSha256?: string },
  ): Promise<{ sha256: string; size: number; created: boolean }>;
}

/** A bundle's parts staged one by one as they stream in, then made durable together (blobs/store.ts). */
export interface StagingBlobSink<Staged extends { sha256: string; size: number } = { sha256: string; size: number }>
  extends BlobSink {
  stage(body: Readable, opts: { maxBytes: number }): Promise<Staged>;
  /** One answer per staged body, in order. */
  publish(staged: readonly Staged[]): Promise<{ created: boolean }[]>;
  discard(staged: readonly Staged[]): Promise<void>;
}

/** One evidence part, stored in the blob store byte for byte. */
export interface StoredPart {
  name: PartName;
  kind: ArtifactKind;
  mediaType: string;
  /** The client's file name: a label only, never a path. */
  filename: string | null;
  /** Lower-case hex. */
  sha256: string;
  size: number;
  /** False when the blob store already held these bytes. */
  created: boolean;
}

export interface ReceivedBundle {
  metadata: IngestMetadata;
  /** In the order received, one per distinct sha256 and name. */
  parts: StoredPart[];
}

/**
 * Reads a push bundle off the request (`@fastify/multipart` registered on the route's scope): the metadata part
 * first (≤ maxMetadataBytes, validated), then each evidence part streamed to a staging file of the blob store,
 * counted against the part and bundle limits and kept in memory only up to the part limit to be classified; once
 * the bundle is whole its parts are flushed together and put in the store (one fsync's wait for all parts, not two
 * per part). Any breach is an IngestRefusal naming the part (413 size or count, 415 media type or encoding, 422
 * content, 400 malformed) and the staged parts are removed; a crash leaves staging files that GC removes.
 */
export async function receiveBundle<Staged extends { sha256: string; size: number }>(
  request: FastifyRequest,
  blobs: StagingBlobSink<Staged>,
  limits: IngestLimits,
  /** Checks the caller may ingest for the metadata's repository before a byte of evidence is stored. */
  authorize: (metadata: IngestMetadata) => void = () => {},
): Promise<ReceivedBundle> {
  // A compressed upload would be inflated past every limit here: refused, not decoded.
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    throw refuse(415, `Content-Encoding ${oneLine(String(encoding))} is not accepted; send the bundle uncompressed`);
  }
  if (!request.isMultipart()) throw refuse(415, 'the bundle must be multipart/form-data');
  const budget = { left: limits.maxTotalBytes, total: limits.maxTotalBytes };
  let metadata: IngestMetadata | undefined;
  const parts: StoredPart[] = [];
  /** Every staged body (discarded on a refusal), and those to publish, one per entry of `parts`. */
  const staged: Staged[] = [];
  const publishing: Staged[] = [];
  const seen = new Set<string>();
  let count = 0;
  try {
    const iterator = request.parts({
      limits: {
        // one byte over, so that the meter (not busboy's silent truncation) sees and names the breach
        fileSize: Math.max(limits.maxPartBytes, limits.maxMetadataBytes) + 1,
        files: limits.maxParts,
        parts: limits.maxParts,
        fields: 1,
        fieldSize: limits.maxMetadataBytes,
        headerPairs: 20,
      },
    });
    for await (const part of iterator) {
      count++;
      if (part.type === 'field') {
        // `curl -F 'metadata={…};type=application/json'` sends the metadata as a field rather than a file.
        if (part.fieldname !== 'metadata' || metadata !== undefined || count !== 1) {
          throw refuse(422, `${oneLine(part.fieldname)}: evidence parts must be files`, part.fieldname);
        }
        if (part.valueTruncated) {
          throw refuse(413, `metadata: more than ${limits.maxMetadataBytes} bytes`, 'metadata');
        }
        metadata =
          typeof part.value === 'string' ? parseMetadata(Buffer.from(part.value)) : validateMetadata(part.value);
        authorize(metadata);
        continue;
      }
      const name = part.fieldname;
      if (name === 'metadata') {
        if (metadata !== undefined) throw refuse(422, 'metadata: sent twice', 'metadata');
        if (count !== 1) throw refuse(422, 'metadata: must be the first part', 'metadata');
        const bytes = await readBounded(part.file, limits.maxMetadataBytes, budget, 'metadata');
        metadata = parseMetadata(bytes);
        authorize(metadata);
        continue;
      }
      if (metadata === undefined) throw refuse(422, 'metadata: must be the first part', 'metadata');
      if (!isPartName(name)) {
        throw refuse(422, `${oneLine(name)}: unknown part (expected ${PART_NAMES.join(', ')})`, name);
      }
      if (!isRepeatable(name) && parts.some((p) => p.name === name)) {
        throw refuse(422, `${name}: sent twice (only attestation and signature repeat)`, name);
      }
      if (!acceptsMediaType(part.mimetype)) {
        throw refuse(415, `${name}: media type ${oneLine(part.mimetype)} is not JSON`, name);
      }
      const meter = new PartMeter(name, limits.maxPartBytes, budget);
      part.file.once('error', (err) => meter.destroy(err));
      part.file.pipe(meter);
      let stored: Staged;
      try {
        // staged, not yet flushed: the parts are made durable together once the bundle is whole (publish below)
        stored = await blobs.stage(meter, { maxBytes: limits.maxPartBytes });
      } catch (err) {
        throw meter.refusal ?? err;
      }
      staged.push(stored);
      if (meter.refusal) throw meter.refusal;
      const classified = classifyPart(name, meter.bytes(), metadata);
      const key = `${name}:${stored.sha256}`;
      if (seen.has(key)) continue;
      seen.add(key);
      parts.push({
        name,
        ...classified,
        filename: part.filename ? oneLine(part.filename).slice(0, 255) : null,
        sha256: stored.sha256,
        size: stored.size,
        created: false,
      });
      publishing.push(stored);
    }
    if (metadata === undefined) throw refuse(422, 'metadata: the bundle has no metadata part', 'metadata');
    if (parts.length === 0) {
      throw refuse(422, `the bundle has no evidence part (${PART_NAMES.join(', ')})`);
    }
  } catch (err) {
    await blobs.discard(staged);
    throw asRefusal(err, limits);
  }
  // every part flushed (in parallel) and in the store before the caller writes the job row: the 202 still means
  // bundle + job durable. publish removes what it did not move into the store.
  // the repeated parts (same name and bytes) were staged but are not published: removed here
  await blobs.discard(staged.filter((blob) => !publishing.includes(blob)));
  const published = await blobs.publish(publishing);
  for (const [i, part] of parts.entries()) part.created = published[i]?.created ?? false;
  return { metadata, parts };
}

/** Counts a part's bytes against its limit and the bundle's, and keeps them (bounded) for classification. */
class PartMeter extends Transform {
  refusal: IngestRefusal | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly name: string,
    private readonly maxBytes: number,
    private readonly budget: { left: number; total: number },
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.budget.left -= chunk.length;
    if (this.size > this.maxBytes) {
      this.refusal = refuse(413, `${this.name}: more than ${this.maxBytes} bytes`, this.name);
    } else if (this.budget.left < 0) {
      this.refusal = refuse(
        413,
        `the bundle is more than ${this.budget.total} bytes (at part ${this.name})`,
        this.name,
      );
    }
    if (this.refusal) {
      callback(this.refusal);
      return;
    }
    this.chunks.push(chunk);
    callback(null, chunk);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function readBounded(
  stream: Readable,
  maxBytes: number,
  budget: { left: number; total: number },
  name: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    budget.left -= chunk.length;
    if (size > maxBytes) throw refuse(413, `${name}: more than ${maxBytes} bytes`, name);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** @fastify/multipart's and busboy's errors as refusals; anything else (the blob store failing) stays a 500. */
function asRefusal(err: unknown, limits: IngestLimits): unknown {
  if (err instanceof IngestRefusal) return err;
  const e = err as { code?: string; message?: string; part?: { fieldname?: string } };
  switch (e.code) {
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return refuse(413, `the bundle has more than ${limits.maxParts} parts`);
    case 'FST_REQ_FILE_TOO_LARGE': {
      const name = e.part?.fieldname ?? 'part';
      return refuse(413, `${name}: more than ${limits.maxPartBytes} bytes`, name);
    }
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return refuse(415, 'the bundle must be multipart/form-data');
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return refuse(422, 'metadata: not JSON', 'metadata');
    case 'FST_PROTO_VIOLATION':
      return refuse(422, 'a part name is not allowed');
    case 'FST_MP_PREMATURE_CLOSE':
      return refuse(400, 'the multipart body ended early (truncated upload)');
  }
  const message = e.message ?? '';
  if (/Unexpected end of (form|multipart data)|terminated early|Malformed|boundary/i.test(message)) {
    return refuse(400, `the multipart body is truncated or malformed (${oneLine(message)})`);
  }
  return err;
}
