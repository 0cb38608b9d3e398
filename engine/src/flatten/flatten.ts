import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { throwIfAborted } from '../errors/abort.js';
import { isLadingError, LadingError } from '../errors/lading-error.js';
import { parseJson } from '../image/config.js';
import type { Image } from '../image/image.js';
import { decompressSniffed } from '../image/layer/decompress.js';
import { verifying } from '../image/layer/verify.js';
import { openImage } from '../image/open.js';
import { isCompressedFile } from '../image/sources/tar-archive.js';
import { describeSpec, parseTargetSpec } from '../image/target-spec.js';
import { blobsDir, checkLayoutDir, tap, tempBlobPath, writeBlob, writeIndex } from '../oci/layout-write.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { classify, FlattenPlan, type LayerOps } from './plan.js';
import { BlockReader, nextEntry, paddedSize } from './tar-blocks.js';

export interface FlattenOptions {
  /** The OCI image layout to write into (created, or added to when it already is one). */
  outDir: string;
  /** Sets `org.opencontainers.image.ref.name` on the new manifest in index.json. */
  tag?: string;
  /** The new config's and history's `created` (RFC 3339); default the original config's. */
  created?: string;
  platform?: string;
  insecureRegistries?: string[];
  dockerConfigPath?: string;
  offline?: boolean;
  signal?: AbortSignal;
}

export interface FlattenResult {
  source: { ref: string; digest?: string; imageId?: string; layers: number };
  manifestDigest: string;
  configDigest: string;
  layer: { digest: string; diffId: string };
  /** Layer bytes before (the original's layers, as stored and as tars) and after (the one new layer). */
  size: {
    before: { compressed?: number; uncompressed: number };
    after: { compressed: number; uncompressed: number };
  };
  /** Entries in the new layer. */
  entries: number;
  /** Hard links left out: the file they were bound to does not survive in the squashed view. */
  droppedLinks: string[];
}

/** The config fields a flattened image keeps verbatim (a superset of what `docker import --change` restores). */
const KEPT_CONFIG_FIELDS = [
  'User',
  'Env',
  'WorkingDir',
  'Cmd',
  'Entrypoint',
  'ExposedPorts',
  'Volumes',
  'StopSignal',
  'Labels',
  'Healthcheck',
  'Shell',
  'OnBuild',
  'ArgsEscaped',
];

const BASE_NAME = 'org.opencontainers.image.base.name';
const BASE_DIGEST = 'org.opencontainers.image.base.digest';
const END_OF_ARCHIVE = Buffer.alloc(1024);

/**
 * Writes `spec`'s image as a one-layer image into an OCI layout: the layers are read twice, streaming (pass 1: the
 * headers, to decide which entries survive the squash; pass 2: the survivors' headers and bytes, copied as stored),
 * so the image is never held in memory. Output digests are computed while writing.
 */
export async function flattenImage(spec: string, options: FlattenOptions): Promise<FlattenResult> {
  const parsed = await parseTargetSpec(spec);
  const ref = describeSpec(parsed);
  if (parsed.kind === 'dir' || parsed.kind === 'image-archive') {
    throw new LadingError(
      'USAGE',
      `${ref}: flatten reads an image (docker-archive:, oci:, oci-archive: or a registry)`,
    );
  }
  if ((parsed.kind === 'docker-archive' || parsed.kind === 'oci-archive') && (await isCompressedFile(parsed.path))) {
    throw new LadingError('USAGE', `${ref}: flatten reads the layers twice; decompress the archive first`);
  }
  if (parsed.kind === 'registry' && options.offline) {
    throw new LadingError('USAGE', `${ref} is in a registry, which the offline option does not reach`, {
      option: 'offline',
    });
  }
  await checkLayoutDir(options.outDir);
  const image = await openImage(parsed, ref, options);
  try {
    return await flattenOpened(image, options);
  } catch (err) {
    if (isLadingError(err) && (err.code === 'ABORTED' || err.message.includes(ref))) throw err;
    if (isLadingError(err)) throw new LadingError(err.code, `${ref}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await image.close();
  }
}

/** One layer, decompressed and checked against its diff-id as it streams (the blob digest is the source's check). */
async function openLayerTar(image: Image, i: number): Promise<{ tar: Readable; counted: ReturnType<typeof tap> }> {
  const layer = image.layers[i];
  if (!layer) throw new LadingError('BAD_INPUT', `layer ${i} is missing`);
  const { stream } = await decompressSniffed(await layer.open());
  const counted = tap();
  const tar = pipeline(stream, verifying(layer.info.diffId, `layer ${i + 1} (diff-id)`), counted, () => {});
  return { tar, counted };
}

async function flattenOpened(image: Image, options: FlattenOptions): Promise<FlattenResult> {
  const rawConfig = image.rawConfig;
  if (!rawConfig) throw new LadingError('BAD_INPUT', 'the image config could not be read');
  const plan = new FlattenPlan();
  let uncompressedBefore = 0;
  for (let i = 0; i < image.layers.length; i++) {
    throwIfAborted(options.signal);
    const { tar, counted } = await openLayerTar(image, i);
    const reader = new BlockReader(tar);
    const ops: LayerOps = { whiteouts: [], opaque: [], entries: [] };
    for (let index = 0; ; index++) {
      const entry = await nextEntry(reader);
      if (!entry) break;
      const planned = { layer: i, index, path: entry.path, typeflag: entry.typeflag, linkname: entry.linkname };
      classify(ops, planned);
      await skip(reader, paddedSize(entry.size));
    }
    await reader.drain();
    await finished(counted);
    uncompressedBefore += counted.bytes;
    plan.apply(i, ops);
  }
  const survivors = plan.survivors(image.layers.length);

  const blobs = await blobsDir(options.outDir);
  const tmp = tempBlobPath(blobs);
  let entries = 0;
  const tarOut = new PassThrough();
  const tarTap = tap();
  const gzTap = tap();
  // Node's gzip header carries no name or time: the same tar always gives the same blob.
  const written = new Promise<void>((resolve, reject) =>
    pipeline(tarOut, tarTap, createGzip({ level: 6 }), gzTap, createWriteStream(tmp), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  const write = async (chunk: Buffer) => {
    if (!tarOut.write(chunk)) await new Promise<void>((r) => tarOut.once('drain', r));
  };
  try {
    for (let i = 0; i < image.layers.length; i++) {
      throwIfAborted(options.signal);
      const keep = survivors[i] as Set<number>;
      const { tar } = await openLayerTar(image, i);
      const reader = new BlockReader(tar);
      for (let index = 0; ; index++) {
        const entry = await nextEntry(reader);
        if (!entry) break;
        const size = paddedSize(entry.size);
        if (!keep.has(index)) {
          await skip(reader, size);
          continue;
        }
        entries++;
        for (const part of entry.head) await write(part);
        for (let left = size; left > 0; ) {
          const part = await reader.readUpTo(left);
          if (part.length === 0) throw new LadingError('BAD_INPUT', `layer ${i + 1}: truncated tar`);
          await write(part);
          left -= part.length;
        }
      }
      await reader.drain();
    }
    tarOut.end(END_OF_ARCHIVE);
    await written;
  } catch (err) {
    tarOut.destroy();
    await written.catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  const layerDigest = gzTap.digest();
  const diffId = tarTap.digest();
  await rename(tmp, join(blobs, layerDigest.slice('sha256:'.length)));

  const original = parseJson(rawConfig, 'config');
  const sourceDigest = image.target.digest ?? image.target.imageId ?? '';
  const created = options.created ?? (typeof original['created'] === 'string' ? original['created'] : undefined);
  const oldConfig = (original['config'] ?? {}) as Record<string, unknown>;
  const keptConfig: Record<string, unknown> = {};
  for (const field of KEPT_CONFIG_FIELDS) if (oldConfig[field] !== undefined) keptConfig[field] = oldConfig[field];
  const config: Record<string, unknown> = {};
  if (created) config['created'] = created;
  for (const field of ['author', 'architecture', 'os', 'os.version', 'os.features', 'variant']) {
    if (original[field] !== undefined) config[field] = original[field];
  }
  config['config'] = keptConfig;
  config['rootfs'] = { type: 'layers', diff_ids: [diffId] };
  config['history'] = [
    { ...(created ? { created } : {}), created_by: 'lading flatten', comment: `flattened from ${sourceDigest}` },
  ];
  const configDigest = await writeBlob(blobs, Buffer.from(JSON.stringify(config)));
  const annotations: Record<string, string> = { [BASE_NAME]: image.target.ref };
  if (image.target.digest) annotations[BASE_DIGEST] = image.target.digest;
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest.digest, size: configDigest.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: gzTap.bytes }],
    annotations,
  };
  const manifestBlob = await writeBlob(blobs, Buffer.from(JSON.stringify(manifest)));
  await writeIndex(options.outDir, manifestBlob, options.tag);

  const compressed = image.layers.every((l) => l.info.size !== undefined)
    ? image.layers.reduce((n, l) => n + (l.info.size ?? 0), 0)
    : undefined;
  const before: FlattenResult['size']['before'] = { uncompressed: uncompressedBefore };
  if (compressed !== undefined) before.compressed = compressed;
  const source: FlattenResult['source'] = { ref: image.target.ref, layers: image.layers.length };
  if (image.target.digest) source.digest = image.target.digest;
  if (image.target.imageId) source.imageId = image.target.imageId;
  return {
    source,
    manifestDigest: manifestBlob.digest,
    configDigest: configDigest.digest,
    layer: { digest: layerDigest, diffId },
    size: { before, after: { compressed: gzTap.bytes, uncompressed: tarTap.bytes } },
    entries,
    droppedLinks: plan.droppedLinks,
  };
}

async function skip(reader: BlockReader, n: number): Promise<void> {
  for (let left = n; left > 0; ) {
    const part = await reader.readUpTo(left);
    if (part.length === 0) throw new LadingError('BAD_INPUT', 'truncated tar');
    left -= part.length;
  }
}
