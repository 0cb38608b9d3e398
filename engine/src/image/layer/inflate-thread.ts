import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { LadingError } from '../../errors/lading-error.js';
import { parseDigest } from './verify.js';

/**
 * The worker: gunzips the chunks it is sent and hashes the inflated bytes, so neither zlib's per-chunk callbacks
 * nor SHA-256 of the whole uncompressed layer run on the main thread, which parses tar headers meanwhile. Plain
 * JavaScript as a string so the same code runs from dist/ and under tsx in tests.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const { createHash } = require('node:crypto');
const hash = workerData.algorithm ? createHash(workerData.algorithm) : undefined;
const gunzip = zlib.createGunzip({ chunkSize: 1024 * 1024 });
let failed = false;
gunzip.on('data', (out) => {
  if (hash) hash.update(out);
  const copy = new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
  parentPort.postMessage({ type: 'data', buf: copy }, [copy.buffer]);
});
gunzip.on('error', (err) => {
  failed = true;
  parentPort.postMessage({ type: 'error', message: err.message });
});
gunzip.on('end', () => {
  if (!failed) parentPort.postMessage({ type: 'done', hex: hash ? hash.digest('hex') : undefined });
});
parentPort.on('message', (msg) => {
  if (failed) return;
  if (msg.type === 'end') gunzip.end();
  else gunzip.write(Buffer.from(msg.buf.buffer, msg.buf.byteOffset, msg.buf.byteLength), () => {
    parentPort.postMessage({ type: 'ack' });
  });
});
`;

/** Compressed chunks in flight to the worker: enough to keep it busy, few enough to bound memory. */
const IN_FLIGHT = 4;

export interface InflateThreadOptions {
  /** Digest of the uncompressed bytes (the diff-id) to check at the end; undefined skips the check. */
  expected?: string;
  /** Called with each inflated chunk's length on the main thread (caps and progress). */
  onBytes?: (n: number) => void;
}

/**
 * Gunzips `input` on a worker thread, verifying the inflated bytes against `expected`: the stream fails with
 * DIGEST_MISMATCH at its end when they differ, and with the zlib message when the gzip data is corrupt.
 */
export function inflateOffThread(input: Readable, options: InflateThreadOptions = {}): Readable {
  const digest = options.expected ? parseDigest(options.expected) : undefined;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithm: digest?.algorithm } });
  const source = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let inFlight = 0;
  let inputDone = false;
  let wantMore = true;
  let finished = false;

  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    void worker.terminate();
    if (!inputDone) input.destroy();
    if (err) out.destroy(err);
    else out.push(null);
  };

  const pump = async () => {
    while (!finished && !inputDone && wantMore && inFlight < IN_FLIGHT) {
      inFlight++;
      let next: IteratorResult<Buffer>;
      try {
        next = await source.next();
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (finished) return;
      if (next.done) {
        inputDone = true;
        inFlight--;
        worker.postMessage({ type: 'end' });
        return;
      }
      const copy = new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength).slice();
      worker.postMessage({ type: 'chunk', buf: copy }, [copy.buffer]);
    }
  };

  const out = new Readable({
    highWaterMark: 4 * 1024 * 1024,
    read() {
      wantMore = true;
      void pump();
    },
    destroy(err, cb) {
      if (!finished) {
        finished = true;
        void worker.terminate();
        input.destroy();
      }
      cb(err);
    },
  });

  worker.on('message', (msg: { type: string; buf?: Uint8Array; hex?: string; message?: string }) => {
    if (finished) return;
    if (msg.type === 'data' && msg.buf) {
      const chunk = Buffer.from(msg.buf.buffer, msg.buf.byteOffset, msg.buf.byteLength);
      try {
        options.onBytes?.(chunk.length);
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (!out.push(chunk)) wantMore = false;
    } else if (msg.type === 'ack') {
      inFlight--;
      void pump();
    } else if (msg.type === 'done') {
      if (digest && msg.hex !== digest.hex) {
        const what = 'uncompressed content (diff-id)';
        const actual = `${digest.algorithm}:${msg.hex}`;
        finish(
          new LadingError('DIGEST_MISMATCH', `${what}: digest mismatch (expected ${options.expected}, got ${actual})`),
        );
      } else finish();
    } else if (msg.type === 'error') {
      finish(new Error(msg.message ?? 'corrupt gzip stream'));
    }
  });
  worker.on('error', (err) => finish(err));
  worker.on('exit', () => {
    if (!finished) finish(new Error('inflate worker exited early'));
  });
  return out;
}
