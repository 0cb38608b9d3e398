// The patched image: the original layers copied as stored, one new layer on top, the config extended (diff-id and
// a history entry) and the manifest annotated with what was patched, written into an OCI layout.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { LadingError } from '../errors/lading-error.js';
import { parseJson } from '../image/config.js';
import type { Image } from '../image/image.js';
import { blobsDir, tap, tempBlobPath, writeBlob, writeIndex } from '../oci/layout-write.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { END_OF_ARCHIVE, type TarItem, tarEntry } from './tar.js';

export const PATCH_BASE_DIGEST = 'dev.lading.patch.base-digest';
export const PATCH_PACKAGES = 'dev.lading.patch.packages';

const LAYER_TYPES = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  tar: 'application/vnd.oci.image.layer.v1.tar',
};

/** Copies one stored layer blob into the layout, its digest computed as it streams; the media type from its magic. */
async function copyLayer(
  image: Image,
  i: number,
  blobs: string,
): Promise<{ mediaType: string; digest: string; size: number }> {
  const layer = image.layers[i];
  if (!layer) throw new LadingError('BAD_INPUT', `layer ${i + 1} is missing`);
  const tmp = tempBlobPath(blobs);
  const counted = tap();
  let head: Buffer | undefined;
  const sniff = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      head ??= chunk.subarray(0, 4);
      yield chunk;
    }
  };
  try {
    await pipeline(await layer.open(), sniff, counted, createWriteStream(tmp));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const digest = counted.digest();
  if (layer.info.digest && layer.info.digest !== digest && layer.verifiedBlob) {
    await rm(tmp, { force: true });
    throw new LadingError('DIGEST_MISMATCH', `layer ${i + 1}: blob digest ${digest} is not ${layer.info.digest}`);
  }
  await rename(tmp, join(blobs, digest.slice('sha256:'.length)));
  const kind = head?.[0] === 0x1f && head[1] === 0x8b ? 'gzip' : head?.readUInt32LE(0) === 0xfd2fb528 ? 'zstd' : 'tar';
  return { mediaType: LAYER_TYPES[kind], digest, size: counted.bytes };
}

export interface WrittenImage {
  manifestDigest: string;
  configDigest: string;
  layer: { digest: string; diffId: string; size: number };
}

export async function writePatchedImage(
  image: Image,
  items: TarItem[],
  options: {
    outDir: string;
    tag?: string;
    created?: string;
    comment: string;
    annotations: Record<string, string>;
  },
): Promise<WrittenImage> {
  if (!image.rawConfig) throw new LadingError('BAD_INPUT', 'the image config could not be read');
  const original = parseJson(image.rawConfig, 'config');
  const blobs = await blobsDir(options.outDir);
  const layers = [];
  for (let i = 0; i < image.layers.length; i++) layers.push(await copyLayer(image, i, blobs));
  const tar = Buffer.concat([...items.map(tarEntry), END_OF_ARCHIVE]);
  // Node's gzip header carries no name or time: the same layer always gives the same blob.
  const gz = gzipSync(tar, { level: 6 });
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const layerBlob = await writeBlob(blobs, gz);
  layers.push({ mediaType: LAYER_TYPES.gzip, ...layerBlob });

  const rootfs = (original['rootfs'] ?? {}) as Record<string, unknown>;
  const diffIds = Array.isArray(rootfs['diff_ids']) ? (rootfs['diff_ids'] as string[]) : [];
  const history = Array.isArray(original['history']) ? (original['history'] as unknown[]) : [];
  const created = options.created;
  const config = {
    ...original,
    ...(created ? { created } : {}),
    rootfs: { type: 'layers', diff_ids: [...diffIds, diffId] },
    history: [...history, { ...(created ? { created } : {}), created_by: 'lading patch', comment: options.comment }],
  };
  const configBlob = await writeBlob(blobs, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers,
    annotations: options.annotations,
  };
  const manifestBlob = await writeBlob(blobs, Buffer.from(JSON.stringify(manifest)));
  await writeIndex(options.outDir, manifestBlob, options.tag);
  return {
    manifestDigest: manifestBlob.digest,
    configDigest: configBlob.digest,
    layer: { digest: layerBlob.digest, diffId, size: layerBlob.size },
  };
}
