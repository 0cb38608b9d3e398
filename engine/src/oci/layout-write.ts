// Writing into an OCI image layout (flatten and patch share it): blobs by digest, each renamed into place once
// whole, and index.json written last, so a failed run leaves the layout's index as it was.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { parseJson } from '../image/config.js';
import { REF_NAME_ANNOTATION } from './descriptor.js';
import { MEDIA_TYPES } from './media-types.js';

/** Refuses a directory that holds something other than an OCI layout: Lading only ever adds to one. */
export async function checkLayoutDir(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LadingError('IO', `${dir}: ${thrownValueText(err)}`, { cause: err });
  }
  if (names.length === 0) return;
  try {
    const layout = parseJson(await readFile(join(dir, 'oci-layout')), `${dir}/oci-layout`);
    if (typeof layout['imageLayoutVersion'] === 'string') return;
  } catch {
    // falls through to the refusal
  }
  throw new LadingError('USAGE', `${dir} is not empty and not an OCI image layout: refusing to write into it`);
}

/** `blobs/sha256` of the layout, created. */
export async function blobsDir(layoutDir: string): Promise<string> {
  const blobs = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  return blobs;
}

/** A temporary name inside `blobs`, renamed to its digest once written. */
export function tempBlobPath(blobs: string): string {
  return join(blobs, `.lading-${randomBytes(6).toString('hex')}`);
}

/** Counts and hashes what passes. */
export function tap(): Transform & { bytes: number; digest(): string } {
  const hash = createHash('sha256');
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      (t as unknown as { bytes: number }).bytes += chunk.length;
      cb(null, chunk);
    },
  }) as Transform & { bytes: number; digest(): string };
  t.bytes = 0;
  t.digest = () => `sha256:${hash.digest('hex')}`;
  return t;
}

export async function writeBlob(blobs: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const hex = createHash('sha256').update(data).digest('hex');
  const tmp = tempBlobPath(blobs);
  await writeFile(tmp, data);
  await rename(tmp, join(blobs, hex));
  return { digest: `sha256:${hex}`, size: data.length };
}

/** Adds the manifest to index.json (written last, so a failed run leaves the layout's index as it was). */
export async function writeIndex(
  dir: string,
  manifest: { digest: string; size: number },
  tag: string | undefined,
): Promise<void> {
  let index: Record<string, unknown> = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  try {
    index = parseJson(await readFile(join(dir, 'index.json')), `${dir}/index.json`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const manifests = (Array.isArray(index['manifests']) ? index['manifests'] : []) as Record<string, unknown>[];
  // A tag names one manifest: the new one takes it over.
  const others = manifests.filter(
    (m) => !tag || (m['annotations'] as Record<string, unknown> | undefined)?.[REF_NAME_ANNOTATION] !== tag,
  );
  const descriptor: Record<string, unknown> = { mediaType: MEDIA_TYPES.ociManifest, ...manifest };
  if (tag) descriptor['annotations'] = { [REF_NAME_ANNOTATION]: tag };
  index['manifests'] = [...others, descriptor];
  await writeFile(join(dir, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
  const tmp = join(dir, `.index.json.${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(index));
  await rename(tmp, join(dir, 'index.json'));
}
