import { PassThrough, pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

export function sniffCompression(head: Buffer): LayerCompression {
  if (GZIP.every((b, i) => head[i] === b)) return 'gzip';
  if (ZSTD.every((b, i) => head[i] === b)) return 'zstd';
  return 'none';
}

type ZstdFactory = () => Transform;

/** Node 22.15+ has a native zstd decoder; Node 20 does not, and fzstd (pure JS) stands in. */
function nativeZstd(): ZstdFactory | undefined {
  const factory = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  return typeof factory === 'function' ? () => factory.call(zlib) : undefined;
}

function fzstdTransform(): Transform {
  let decoder: Decompress;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        decoder.push(chunk);
        cb();
      } catch (err) {
        cb(zstdError(err));
      }
    },
    flush(cb: TransformCallback) {
      try {
        decoder.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(zstdError(err));
      }
    },
  });
  decoder = new Decompress((data) => {
    // fzstd may hand out views of its own window: copy before it is overwritten.
    out.push(Buffer.from(data));
  });
  return out;
}

function zstdError(err: unknown): Error {
  return new Error(`corrupt zstd stream: ${err instanceof Error ? err.message : String(err)}`);
}

export function zstdDecompressor(): Transform {
  return (nativeZstd() ?? fzstdTransform)();
}

function decompressorFor(kind: LayerCompression): Transform {
  if (kind === 'gzip') return zlib.createGunzip({ chunkSize: 512 * 1024 });
  if (kind === 'zstd') return zstdDecompressor();
  return new PassThrough();
}

/** Reads the first bytes of `input`, then returns the stream decompressed as its magic bytes say. */
export async function decompressSniffed(input: Readable): Promise<{ stream: Readable; compression: LayerCompression }> {
  const { stream: raw, compression } = await sniffStream(input);
  const stream = pipeline(raw, decompressorFor(compression), () => {
    // Errors surface on the returned stream, where the reader awaits it.
  });
  return { stream, compression };
}

/** Reads the first bytes of `input` to tell its compression; `stream` replays all of it, still compressed. */
export async function sniffStream(input: Readable): Promise<{ stream: Readable; compression: LayerCompression }> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < ZSTD.length) {
    const next = await chunks.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    have += next.value.length;
  }
  const first = Buffer.concat(head);
  const compression = sniffCompression(first);
  async function* replay(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    if (done) return;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const stream = Readable.from(replay(), { objectMode: false, highWaterMark: 1 << 20 });
  return { stream, compression };
}
