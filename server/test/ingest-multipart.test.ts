import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../src/ingest/limits.js';
import { type ReceivedBundle, receiveBundle, type StagingBlobSink } from '../src/ingest/multipart.js';
import { IngestRefusal } from '../src/ingest/refusal.js';

/**
 * The bundle reader on a real Fastify server over real HTTP (WHATWG FormData from Node's fetch for well-formed
 * bundles, raw sockets for broken ones). The refusals are asserted as the problem documents the ingest route sends.
 */

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER = `sha256:${'cd'.repeat(32)}`;

/** A content-addressed folder: the shape of server/src/blobs' filesystem store (hash on the way, rename). */
function folderSink(root: string): StagingBlobSink<Staged> & { stored: Map<string, string>; discarded: number } {
  const stored = new Map<string, string>();
  const sink = {
    stored,
    discarded: 0,
    async stage(body: Readable, opts: { maxBytes: number }): Promise<Staged> {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > opts.maxBytes) throw new Error('blob too large');
        hash.update(chunk);
        chunks.push(chunk);
      }
      return { sha256: hash.digest('hex'), size, bytes: Buffer.concat(chunks) };
    },
    async publish(staged: readonly Staged[]) {
      return Promise.all(staged.map((s) => sink.put(s.bytes, { maxBytes: s.size })));
    },
    async discard(staged: readonly Staged[]) {
      sink.discarded += staged.length;
    },
    async put(body: Readable | Uint8Array, opts: { maxBytes: number }) {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      let size = 0;
      const source = body instanceof Uint8Array ? [Buffer.from(body)] : (body as AsyncIterable<Buffer>);
      for await (const chunk of source) {
        size += chunk.length;
        if (size > opts.maxBytes) throw new Error('blob too large');
        hash.update(chunk);
        chunks.push(chunk);
      }
      const sha256 = hash.digest('hex');
      const path = join(root, 'cas', 'sha256', sha256.slice(0, 2), sha256);
      const created = !stored.has(sha256);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, Buffer.concat(chunks));
      await rename(`${path}.tmp`, path);
      stored.set(sha256, path);
      return { sha256, size, created };
    },
  };
  return sink;
}

interface Staged {
  sha256: string;
  size: number;
  bytes: Buffer;
}

const CYCLONEDX = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] });
const SPDX = JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', packages: [] });
const REPORT = (digest: string) =>
  JSON.stringify({
    schemaVersion: 2,
    tool: { name: 'lading', version: '0.1.0' },
    target: { kind: 'image', ref: 'r', digest, layers: [] },
  });
const DSSE = JSON.stringify({
  payloadType: 'application/vnd.in-toto+json',
  payload: 'e30=',
  signatures: [{ sig: 'AA==' }],
});
const SIGNATURE = JSON.stringify({ payload: 'e30=', signature: 'AA==' });
const METADATA = JSON.stringify({
  repository: 'registry.example:5000/acme/api',
  digest: DIGEST,
  tags: ['1.0', 'latest'],
});

function file(text: string, type = 'application/json'): Blob {
  return new Blob([text], { type });
}

describe('ingest: receiveBundle', () => {
  let app: FastifyInstance;
  let url: string;
  let sink: ReturnType<typeof folderSink>;
  let limits: IngestLimits = DEFAULT_INGEST_LIMITS;
  let last: ReceivedBundle | undefined;

  before(async () => {
    const root = await mkdtemp(join(tmpdir(), 'lading-ingest-'));
    after(() => rm(root, { recursive: true, force: true }));
    sink = folderSink(root);
    // keep-alive sockets of fetch would hold close() open
    app = Fastify({ forceCloseConnections: true });
    await app.register(multipart);
    app.post('/ingest', async (request, reply) => {
      try {
        last = await receiveBundle(request, sink, limits);
        return reply.code(202).send({ ok: true });
      } catch (err) {
        if (!(err instanceof IngestRefusal)) throw err;
        return reply
          .code(err.status)
          .type('application/problem+json')
          .send({ type: 'about:blank', title: err.title, status: err.status, detail: err.detail, part: err.part });
      }
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/ingest`;
  });
  after(() => app.close());

  async function post(
    form: FormData,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(url, { method: 'POST', body: form, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  function bundle(entries: [string, Blob | string][]): FormData {
    const form = new FormData();
    for (const [name, value] of entries) {
      if (typeof value === 'string') form.append(name, value);
      else form.append(name, value, `${name}.json`);
    }
    return form;
  }

  it('stores every part byte for byte, classified, metadata first and validated', async () => {
    limits = DEFAULT_INGEST_LIMITS;
    const res = await post(
      bundle([
        ['metadata', file(METADATA)],
        ['sbom', file(CYCLONEDX, 'application/vnd.cyclonedx+json')],
        ['report', file(REPORT(DIGEST))],
        ['attestation', file(DSSE, 'application/vnd.dsse.envelope.v1+json')],
        ['attestation', file(DSSE)],
        ['signature', file(SIGNATURE, 'application/octet-stream')],
      ]),
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.ok(last);
    assert.deepEqual(last.metadata, {
      repository: 'registry.example:5000/acme/api',
      digest: DIGEST,
      tags: ['1.0', 'latest'],
      track: 'default',
    });
    // the identical second attestation is one artifact
    assert.deepEqual(
      last.parts.map((p) => [p.name, p.kind]),
      [
        ['sbom', 'sbom-cyclonedx'],
        ['report', 'report-lading'],
        ['attestation', 'attestation-dsse'],
        ['signature', 'signature-cosign'],
      ],
    );
    for (const [part, text] of [
      [last.parts[0], CYCLONEDX],
      [last.parts[1], REPORT(DIGEST)],
    ] as const) {
      assert.equal(part?.sha256, createHash('sha256').update(text).digest('hex'));
      assert.equal(part?.size, Buffer.byteLength(text));
      assert.equal(await readFile(sink.stored.get(part?.sha256 ?? '') ?? '', 'utf8'), text);
    }
    assert.equal(last.parts[0]?.filename, 'sbom.json');
  });

  it('takes the metadata as a form field too (curl -F), and SPDX SBOMs', async () => {
    limits = DEFAULT_INGEST_LIMITS;
    const res = await post(
      bundle([
        ['metadata', METADATA],
        ['sbom', file(SPDX)],
      ]),
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(last?.parts[0]?.kind, 'sbom-spdx');
  });

  const refusals: [string, () => FormData, number, string | undefined, RegExp][] = [
    [
      'metadata not first',
      () =>
        bundle([
          ['sbom', file(CYCLONEDX)],
          ['metadata', file(METADATA)],
        ]),
      422,
      'metadata',
      /must be the first part/,
    ],
    ['metadata missing', () => bundle([]), 422, 'metadata', /no metadata part/],
    [
      'metadata not JSON',
      () =>
        bundle([
          ['metadata', file('{"repository":')],
          ['sbom', file(CYCLONEDX)],
        ]),
      422,
      'metadata',
      /not JSON/,
    ],
    [
      'metadata with a bad digest',
      () =>
        bundle([
          ['metadata', file(JSON.stringify({ repository: 'r', digest: 'sha256:12' }))],
          ['sbom', file(CYCLONEDX)],
        ]),
      422,
      'metadata',
      /digest must be sha256/,
    ],
    [
      'metadata with an unknown field',
      () =>
        bundle([
          ['metadata', file(JSON.stringify({ repository: 'r', digest: DIGEST, evil: 1 }))],
          ['sbom', file(CYCLONEDX)],
        ]),
      422,
      'metadata',
      /unknown field "evil"/,
    ],
    ['no evidence', () => bundle([['metadata', file(METADATA)]]), 422, undefined, /no evidence part/],
    [
      'a part that is not JSON',
      () =>
        bundle([
          ['metadata', file(METADATA)],
          ['sbom', file('<bom/>')],
        ]),
      422,
      'sbom',
      /^sbom: not JSON$/,
    ],
    [
      'an SBOM of no known format',
      () =>
        bundle([
          ['metadata', file(METADATA)],
          ['sbom', file('{"a":1}')],
        ]),
      422,
      'sbom',
      /neither a CycloneDX nor an SPDX/,
    ],
    [
      'a report for another digest',
      () =>
        bundle([
          ['metadata', file(METADATA)],
          ['report', file(REPORT(OTHER))],
        ]),
      422,
      'report',
      new RegExp(`report: target digest ${OTHER} differs from metadata.digest ${DIGEST}`),
    ],
    [
      'a foreign report',
      () =>
        bundle([
          ['metadata', file(METADATA)],
          ['report', file('{"SchemaVersion":2}')],
        ]),
      422,
      'report',
      /not a Lading JSON report/,
    ],
    [
      'an attestation that is neither',
      () =>
        bundle([
          ['metadata', file(METADATA)],
          ['attestation', file('{"payload":"x"}')],
        ]),
      422,
      'attestation',
      /neither a DSSE envelope/,
    ],
    [
      'an unknown part',
      () =>
        bundle([
          ['metadata', file(METADATA)],
          ['vex', file('{}')],
        ]),
      422,
      'vex',
      /unknown part/,
    ],
    [
      'two SBOMs',
      () =>
        bundle([
          ['metadata', file(METADATA)],
          ['sbom', file(CYCLONEDX)],
          ['sbom', file(SPDX)],
        ]),
      422,
      'sbom',
      /sent twice/,
    ],
    [
      'a text part',
      () =>
        bundle([
          ['metadata', file(METADATA)],
          ['sbom', file(CYCLONEDX, 'text/plain')],
        ]),
      415,
      'sbom',
      /media type text\/plain is not JSON/,
    ],
  ];
  for (const [what, form, status, part, detail] of refusals) {
    it(`refuses ${what}: ${status}${part ? ` naming ${part}` : ''}`, async () => {
      limits = DEFAULT_INGEST_LIMITS;
      const res = await post(form());
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body['part'], part);
      assert.match(String(res.body['detail']), detail);
    });
  }

  it('refuses a part over its limit, a bundle over its total and too many parts: 413', async () => {
    limits = { maxMetadataBytes: 1024, maxPartBytes: 4096, maxParts: 4, maxTotalBytes: 6000 };
    const big = JSON.stringify({ bomFormat: 'CycloneDX', pad: 'x'.repeat(5000) });
    let res = await post(
      bundle([
        ['metadata', file(METADATA)],
        ['sbom', file(big)],
      ]),
    );
    assert.equal(res.status, 413);
    assert.equal(res.body['part'], 'sbom');
    assert.equal(res.body['detail'], 'sbom: more than 4096 bytes');

    const medium = JSON.stringify({ payloadType: 't', payload: 'x'.repeat(3000), signatures: [] });
    const medium2 = JSON.stringify({ payloadType: 'u', payload: 'x'.repeat(3000), signatures: [] });
    const storedBefore = sink.stored.size;
    const discardedBefore = sink.discarded;
    res = await post(
      bundle([
        ['metadata', file(METADATA)],
        ['attestation', file(medium)],
        ['attestation', file(medium2)],
      ]),
    );
    assert.equal(res.status, 413);
    assert.match(String(res.body['detail']), /^the bundle is more than 6000 bytes \(at part attestation\)$/);
    // the first attestation was staged whole: the refusal discarded it and nothing reached the store
    assert.equal(sink.stored.size, storedBefore);
    assert.ok(sink.discarded > discardedBefore);

    res = await post(
      bundle([
        ['metadata', file(METADATA)],
        ...Array.from(
          { length: 5 },
          (_, i) => ['signature', file(`{"payload":"${i}","signature":"s"}`)] as [string, Blob],
        ),
      ]),
    );
    assert.equal(res.status, 413);
    assert.equal(res.body['detail'], 'the bundle has more than 4 parts');

    res = await post(
      bundle([['metadata', file(JSON.stringify({ repository: 'r', digest: DIGEST, pad: 'x'.repeat(2000) }))]]),
    );
    assert.equal(res.status, 413);
    assert.equal(res.body['part'], 'metadata');
  });

  it('refuses a 1 GB part at 64 MiB without reading the rest', async () => {
    limits = DEFAULT_INGEST_LIMITS;
    const boundary = 'lading-test-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="metadata"; filename="m.json"\r\nContent-Type: application/json\r\n\r\n${METADATA}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="sbom"; filename="big.json"\r\nContent-Type: application/json\r\n\r\n`,
    );
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const body = Readable.from(
      (function* () {
        yield head;
        for (let i = 0; i < 1024; i++) {
          sent += chunk.length;
          yield chunk;
        }
      })(),
    );
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(url, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(head.length + 1024 * chunk.length),
        },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        body.unpipe(req);
        body.destroy();
      });
      req.on('error', reject);
      body.pipe(req);
    });
    assert.equal(answer.status, 413);
    assert.equal(JSON.parse(answer.text).detail, `sbom: more than ${64 * 1024 * 1024} bytes`);
    assert.ok(sent < 256 * 1024 * 1024, `sent ${sent} bytes`);
  });

  async function raw(
    headers: Record<string, string>,
    body: string,
    endEarly = false,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || '{}') }));
      });
      req.on('error', reject);
      if (endEarly) {
        // the declared length is never reached: the client gives up half way through a part
        req.write(body);
        setTimeout(() => req.destroy(), 200);
      } else {
        req.end(body);
      }
    });
  }

  it('refuses a truncated body with 400 and a malformed one likewise, in one line', async () => {
    limits = DEFAULT_INGEST_LIMITS;
    const boundary = 'b0undary';
    const text =
      `--${boundary}\r\nContent-Disposition: form-data; name="metadata"; filename="m.json"\r\nContent-Type: application/json\r\n\r\n${METADATA}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="sbom"; filename="s.json"\r\nContent-Type: application/json\r\n\r\n{"bomFormat":"Cyclo`;
    // complete HTTP body whose multipart ends without the closing boundary
    const res = await raw({ 'content-type': `multipart/form-data; boundary=${boundary}` }, text);
    assert.equal(res.status, 400);
    assert.match(String(res.json['detail']), /truncated or malformed/);
    assert.doesNotMatch(String(res.json['detail']), /\n/);
  });

  it('refuses Content-Encoding and bodies that are not multipart: 415', async () => {
    limits = DEFAULT_INGEST_LIMITS;
    const form = bundle([
      ['metadata', file(METADATA)],
      ['sbom', file(CYCLONEDX)],
    ]);
    const encoded = await post(form, { 'content-encoding': 'gzip' });
    assert.equal(encoded.status, 415);
    assert.match(String(encoded.body['detail']), /Content-Encoding gzip is not accepted/);
    const res = await fetch(url, { method: 'POST', body: METADATA, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 415);
  });
});
