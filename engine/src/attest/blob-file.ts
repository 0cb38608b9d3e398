import { createHash, createSign, createVerify, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { digestsFor, signBytes, verifyBytes } from './signature.js';

/** Pure Ed25519 needs the whole message in memory; other keys stream, so any file size works. */
const MAX_IN_MEMORY_BYTES = 512 * 1024 * 1024;

export interface FileSignature {
  signature: Buffer;
  /** SHA-256 of the file, for bundles. */
  sha256: Buffer;
}

/** Signs a file's raw bytes (as `cosign sign-blob`), streaming it once. */
export async function signFile(key: KeyObject, path: string): Promise<FileSignature> {
  const digest = digestsFor(key)[0] ?? null;
  if (digest === null) {
    const bytes = await readSmall(path);
    return { signature: signBytes(key, bytes), sha256: createHash('sha256').update(bytes).digest() };
  }
  const signer = createSign(digest);
  const sha256 = createHash('sha256');
  await forEachChunk(path, (chunk) => {
    signer.update(chunk);
    sha256.update(chunk);
  });
  return { signature: signer.sign(key), sha256: sha256.digest() };
}

/**
 * Whether `signature` (DER, as cosign and openssl write it) is valid for the file under `key`, trying every digest
 * cosign may have used; also the file's SHA-256.
 */
export async function verifyFile(
  key: KeyObject,
  path: string,
  signature: Buffer,
): Promise<{ ok: boolean; sha256: Buffer }> {
  const digests = digestsFor(key);
  if (digests.includes(null)) {
    const bytes = await readSmall(path);
    return { ok: verifyBytes(key, bytes, signature), sha256: createHash('sha256').update(bytes).digest() };
  }
  const verifiers = digests.map((d) => createVerify(d ?? 'sha256'));
  const sha256 = createHash('sha256');
  await forEachChunk(path, (chunk) => {
    for (const v of verifiers) v.update(chunk);
    sha256.update(chunk);
  });
  const ok = verifiers.some((v) => {
    try {
      return v.verify(key, signature);
    } catch {
      return false;
    }
  });
  return { ok, sha256: sha256.digest() };
}

async function forEachChunk(path: string, onChunk: (chunk: Buffer) => void): Promise<void> {
  await assertRegularFile(path);
  try {
    for await (const chunk of createReadStream(path)) onChunk(chunk as Buffer);
  } catch (err) {
    throw new LadingError('IO', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? thrownValueText(err)}`, {
      cause: err,
    });
  }
}

async function readSmall(path: string): Promise<Buffer> {
  const size = await assertRegularFile(path);
  if (size > MAX_IN_MEMORY_BYTES) {
    throw new LadingError('LIMIT', `${path}: Ed25519 signs whole messages in memory; files over 512 MiB are refused`);
  }
  const chunks: Buffer[] = [];
  await forEachChunk(path, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks);
}

async function assertRegularFile(path: string): Promise<number> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new LadingError('IO', `cannot read file ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code}`);
  });
  if (!info.isFile()) throw new LadingError('IO', `cannot read file ${path}: not a regular file`);
  return info.size;
}
