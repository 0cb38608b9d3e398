import { Worker } from 'node:worker_threads';
import { abortedError } from '../../errors/abort.js';
import { parseDigest } from './verify.js';

/**
 * The worker: reads a byte range of a local file and hashes it, so that checking a layer read in place (hundreds of
 * megabytes) runs on another core beside the walk instead of taking turns with it on the main thread. Plain
 * JavaScript as a string so the same code runs from dist/, from the CLI bundle and under tsx in tests.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { file, start, size, algorithm } = workerData;
let fd;
try {
  fd = fs.openSync(file, 'r');
  const hash = createHash(algorithm);
  const buffer = Buffer.allocUnsafe(Math.min(size, 1 << 20) || 1);
  let done = 0;
  while (done < size) {
    const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, size - done), start + done);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    done += n;
  }
  parentPort.postMessage({ hex: hash.digest('hex'), read: done });
} catch (err) {
  parentPort.postMessage({ error: err.message });
} finally {
  if (fd !== undefined) fs.closeSync(fd);
}
`;

/**
 * The digest (in `like`'s algorithm) of bytes [start, start + size) of `file`, computed on a worker thread; undefined
 * when the file holds fewer bytes. Rejects with LadingError('ABORTED') at once when `signal` fires, the thread ended.
 */
export function hashFileRangeOffThread(
  file: string,
  start: number,
  size: number,
  like: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const { algorithm } = parseDigest(like);
  if (signal?.aborted) return Promise.reject(abortedError());
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, start, size, algorithm } });
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', stop);
      void worker.terminate();
      done();
    };
    const stop = () => settle(() => reject(abortedError()));
    signal?.addEventListener('abort', stop, { once: true });
    worker.on('message', (msg: { hex?: string; read?: number; error?: string }) => {
      if (msg.error !== undefined) settle(() => reject(new Error(msg.error)));
      else settle(() => resolve(msg.read === size ? `${algorithm}:${msg.hex}` : undefined));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', () => settle(() => reject(new Error('hash worker exited early'))));
  });
}
