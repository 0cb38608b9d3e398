import { PassThrough, pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { thrownValueText } from '../../errors/lading-error.js';

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

/**
 * Input fed to fzstd at a time. fzstd decodes every complete block of what it is given in one synchronous call, and a
 * 4-byte RLE block inflates to 128 KiB: a 1 MiB piece of a zstd bomb would come out as 32 GiB before any reader
 * could push back. Fed 256 bytes at a time, one call yields at most ~8 MiB, and the decoder waits for the reader
 * whenever its output is not being taken. (fzstd only queues the small pieces until a block is complete.)
 */
const FZSTD_FEED_BYTES = 256;

/** fzstd as a Transform that honours backpressure (exported for tests; Node 20 has no native zstd). */
export function fzstdTransform(): Transform {
  let decoder: Decompress;
  /** Resolves when the reader asks for more: set while the output buffer is full. */
  let resume: (() => void) | undefined;
  const feed = async (chunk: Buffer) => {
    for (let at = 0; at < chunk.length; at += FZSTD_FEED_BYTES) {
      decoder.push(chunk.subarray(at, at + FZSTD_FEED_BYTES));
      if (out.destroyed) return;
      if (out.readableLength >= out.readableHighWaterMark) await new Promise<void>((r) => (resume = r));
    }
  };
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      feed(chunk).then(
        () => cb(),
        (err: unknown) => cb(zstdError(err)),
      );
    },
    flush(cb: TransformCallback) {
      try {
        decoder.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(zstdError(err));
      }
    },
    destroy(err, cb) {
      // a reader that gave up must not leave a feed waiting forever
      resume?.();
      cb(err);
    },
  });
  // The reader asking for data (Readable calls _read when its buffer drains) is the signal to feed again.
  const read = out._read.bind(out);
  out._read = (size: number) => {
    const waiting = resume;
    resume = undefined;
    waiting?.();
    read(size);
  };
  decoder = new Decompress((data) => {
    // fzstd may hand out views of its own window: copy before it is overwritten.
    out.push(Buffer.from(data));
  });
  return out;
}

function zstdError(err: unknown): Error {
  return new Error(`corrupt zstd stream: ${thrownValueText(err)}`);
}

/**
 * Whether corrupt zstd content is caught while inflating: Node's own decoder checks each frame's checksum, fzstd
 * does not, so without it the uncompressed bytes must be checked against the diff-id instead.
 */
export function zstdChecksFrames(): boolean {
  return nativeZstd() !== undefined;
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
  return { stream: decompress(raw, compression), compression };
}

/** `input` (already sniffed, see `sniffStream`) decompressed as `compression`. */
export function decompress(input: Readable, compression: LayerCompression): Readable {
  return pipeline(input, coalescing(MIN_INFLATE_CHUNK), decompressorFor(compression), () => {
    // Errors surface on the returned stream, where the reader awaits it.
  });
}

/**
 * Network streams arrive in socket-sized pieces (~64 KiB): each one handed to zlib is a thread-pool round trip
 * and a callback, which on 2 cores cost more than inflating the bytes. Pieces are joined up to 1 MiB first.
 */
const MIN_INFLATE_CHUNK = 1 << 20;

/** Passes bytes through in chunks of at least `min` bytes (the last one may be shorter). */
export function coalescing(min: number): Transform {
  let parts: Buffer[] = [];
  let have = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (have === 0 && chunk.length >= min) {
        cb(null, chunk);
        return;
      }
      parts.push(chunk);
      have += chunk.length;
      if (have < min) {
        cb();
        return;
      }
      const joined = Buffer.concat(parts, have);
      parts = [];
      have = 0;
      cb(null, joined);
    },
    flush(cb: TransformCallback) {
      cb(null, have > 0 ? Buffer.concat(parts, have) : undefined);
    },
  });
}

/**
 * Reads the first bytes of `input` to tell its compression and puts them back: `stream` is `input` itself, paused,
 * still compressed and whole.
 */
export async function sniffStream(input: Readable): Promise<{ stream: Readable; compression: LayerCompression }> {
  // A small blob can arrive whole in the first chunk and fail its digest check before the caller attaches its
  // pipeline: with no listener that 'error' would crash the process. The stream keeps the error (`errored`), and
  // the pipeline the caller builds next reports it.
  input.on('error', keptForTheReader);
  const head = await peekHead(input, ZSTD.length);
  return { stream: input, compression: sniffCompression(head) };
}

function keptForTheReader(): void {}

async function peekHead(input: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = input.read() as Buffer | null;
    if (chunk !== null) {
      parts.push(chunk);
      have += chunk.length;
      continue;
    }
    if (input.readableEnded || input.destroyed) break;
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        input.off('readable', onReady);
        input.off('end', onReady);
        input.off('error', settle);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => settle();
      input.once('readable', onReady);
      input.once('end', onReady);
      input.once('error', settle);
    });
  }
  const head = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, have);
  if (head.length > 0) input.unshift(head);
  return head;
}
