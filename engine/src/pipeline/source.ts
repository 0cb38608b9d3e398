import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { AttachmentRegistry } from '../attest/registry-port.js';
import { LadingError } from '../errors/lading-error.js';
import { parseJson } from '../image/config.js';
import { ArchiveBlobStore, type BlobStore, DirBlobStore } from '../image/sources/blob-store.js';
import type { LayoutSelector } from '../image/sources/oci-layout.js';
import { MAX_METADATA_BYTES, openTarArchive, type TarArchive } from '../image/sources/tar-archive.js';
import { parseTargetSpec, type TargetSpec } from '../image/target-spec.js';
import { type Descriptor, REF_NAME_ANNOTATION } from '../oci/descriptor.js';
import { documentKind, parseImageIndex, parseImageManifest } from '../oci/manifest.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { choosePlatform, formatPlatform, type Platform, parsePlatform } from '../oci/platform.js';
import { parseReference, type RepositoryRef } from '../registry/reference.js';

/** The largest blob the pipeline pushes: the registry client uploads a blob from memory in one request. */
export const MAX_PUSH_BLOB_BYTES = 2 * 1024 ** 3 - 1;

/** One manifest or index document, as its exact bytes (its digest is over them). */
export interface StagedDocument {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** A config or layer blob: described up front, read (and verified) when pushed. */
export interface StagedBlob {
  digest: string;
  size: number;
  read(): Promise<Buffer>;
}

/** One platform's image, as it is scanned and attested. */
export interface StagedPlatform {
  /** The platform's image manifest digest. */
  digest: string;
  /** `os/arch[/variant]`. */
  platform: string;
  /** The storage layout's `{arch}`: `amd64`, `arm64`, `arm-v7`. */
  arch: string;
  /** The TARGET `scan()` reads this platform's image from. */
  scanTarget: string;
}

/** The build output read and verified: what is pushed (children before parents) and what is scanned. */
export interface StagedImage {
  /** What SOURCE named, for messages and the provenance's input dependency. */
  source: string;
  kind: TargetSpec['kind'];
  /** The document the tags will point at: the image manifest, or the index of a multi-platform image. */
  top: StagedDocument;
  /** Image manifests an index lists, pushed before it. Empty for a single image. */
  children: StagedDocument[];
  /** Every config and layer blob the documents name, each once. */
  blobs: StagedBlob[];
  /** The platforms scanned, SBOM'd and attested one by one. */
  platforms: StagedPlatform[];
  /** Where the image already is in a registry (a `registry:` SOURCE): its blobs are read from there. */
  registryRepo?: RepositoryRef;
  close(): Promise<void>;
}

export interface StageOptions {
  /** `os/arch[/variant]`, or `all` (every platform of an index). */
  platform: string;
  /** Staging directory (`--out`): a docker-archive is rewritten there as an OCI layout. */
  stagingDir: string;
  /** Needed for a `registry:` SOURCE only. */
  registry?: AttachmentRegistry;
}

/** `amd64`, `arm64`, `arm-v7`: the architecture (and variant) of the storage layout's `{arch}`. */
export function archLabel(platform: string): string {
  const p = parsePlatform(platform);
  return p.variant ? `${p.architecture}-${p.variant}` : p.architecture;
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Reads SOURCE and checks every document and blob against its digest before anything leaves the machine: a build
 * output that is truncated or tampered with stops the pipeline here (exit 3), with nothing written outside --out.
 */
export async function stageSource(source: string, options: StageOptions): Promise<StagedImage> {
  if (options.platform !== 'all') parsePlatform(options.platform);
  const spec = await parseTargetSpec(source);
  switch (spec.kind) {
    case 'oci':
      return stageLayout(source, spec.kind, new DirBlobStore(spec.path), `oci:${spec.path}`, spec.selector, options);
    case 'oci-archive': {
      const archive = await openPlainArchive(spec.path, source);
      return stageLayout(source, spec.kind, new ArchiveBlobStore(archive), `oci-archive:${spec.path}`, spec.selector, {
        ...options,
      }).catch(async (err) => {
        await archive.close();
        throw err;
      });
    }
    case 'docker-archive': {
      const dir = await dockerArchiveToLayout(spec.path, spec.reference, source, options.stagingDir);
      return stageLayout(source, spec.kind, new DirBlobStore(dir), `oci:${dir}`, undefined, options);
    }
    case 'registry':
      return stageRegistry(source, spec.reference, options);
    default:
      throw new LadingError(
        'USAGE',
        `${source}: the pipeline reads a build output (oci:DIR, oci-archive:FILE, docker-archive:FILE) or registry:REF@sha256:DIGEST`,
      );
  }
}

async function openPlainArchive(path: string, source: string): Promise<TarArchive> {
  const archive = await openTarArchive(path);
  if (archive.compressed) {
    await archive.close();
    // A compressed archive can only be read front to back, and pushing needs each blob on its own.
    throw new LadingError('USAGE', `${source}: a compressed archive; decompress it first (the pipeline pushes blobs)`);
  }
  return archive;
}

/** Hashes a stream to its end, refusing more than `max` bytes. */
async function streamDigest(stream: Readable, max: number, what: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      stream.destroy();
      throw new LadingError('LIMIT', `${what} is more than the ${max} bytes the pipeline pushes`);
    }
    hash.update(chunk);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

async function readStream(stream: Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      stream.destroy();
      throw new LadingError('LIMIT', `${what} is more than the ${max} bytes the pipeline pushes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function unknownPlatform(p: Platform | undefined): boolean {
  // buildx stores its attestation manifests as `unknown/unknown` entries of the index: not images to scan.
  return !p || p.os === 'unknown' || p.architecture === 'unknown';
}

async function stageLayout(
  source: string,
  kind: TargetSpec['kind'],
  store: BlobStore,
  scanPrefix: string,
  selector: LayoutSelector,
  options: StageOptions,
): Promise<StagedImage> {
  const where = source;
  const entries = parseImageIndex(await store.readTopFile('index.json'), `${where} index.json`).manifests;
  const picked = pickEntry(entries, selector, where);
  const topBytes = await store.readBlob(picked.digest, 'manifest');
  const topKind = documentKind(topBytes, `${where} ${picked.digest}`, picked.mediaType);
  const blobs = new Map<string, StagedBlob>();
  const children: StagedDocument[] = [];
  const platforms: StagedPlatform[] = [];

  const addImage = async (digest: string, bytes: Buffer, platform: string | undefined): Promise<StagedPlatform> => {
    const what = `${where} manifest ${digest}`;
    const manifest = parseImageManifest(bytes, what);
    const config = await store.readBlob(manifest.config.digest, 'config');
    const configPlatform = platformOfConfig(config, `${where} config ${manifest.config.digest}`);
    blobs.set(manifest.config.digest, {
      digest: manifest.config.digest,
      size: config.length,
      read: async () => config,
    });
    for (const layer of manifest.layers) {
      if (blobs.has(layer.digest)) continue;
      if (!(await store.hasBlob(layer.digest))) {
        throw new LadingError('NOT_FOUND', `${where}: layer blob ${layer.digest} is missing`);
      }
      // Verified now, whole: a blob that does not match its digest must stop the run before anything is pushed.
      const actual = await streamDigest(store.openBlob(layer.digest), MAX_PUSH_BLOB_BYTES, `layer ${layer.digest}`);
      if (actual.digest !== layer.digest) {
        throw new LadingError('DIGEST_MISMATCH', `${where}: layer blob ${layer.digest} does not match its content`);
      }
      if (actual.size !== layer.size) {
        throw new LadingError(
          'BAD_INPUT',
          `${where}: layer ${layer.digest} is ${actual.size} bytes, not ${layer.size}`,
        );
      }
      blobs.set(layer.digest, {
        digest: layer.digest,
        size: actual.size,
        read: () => readStream(store.openBlob(layer.digest), MAX_PUSH_BLOB_BYTES, `layer ${layer.digest}`),
      });
    }
    const name = platform ?? configPlatform ?? 'linux/amd64';
    return { digest, platform: name, arch: archLabel(name), scanTarget: `${scanPrefix}@${digest}` };
  };

  let top: StagedDocument;
  if (topKind === 'index') {
    const index = parseImageIndex(topBytes, `${where} index ${picked.digest}`);
    const images = index.manifests.filter((m) => !unknownPlatform(m.platform));
    const wanted = options.platform === 'all' ? images : [choosePlatform(images, options.platform, where)];
    if (options.platform !== 'all') {
      // One platform asked of an index: that platform's image is what is pushed, signed and tagged.
      const only = wanted[0]!;
      const bytes = await store.readBlob(only.digest, 'manifest');
      const mediaType = only.mediaType ?? MEDIA_TYPES.ociManifest;
      top = { digest: only.digest, mediaType, bytes };
      platforms.push(await addImage(only.digest, bytes, formatPlatform(only.platform!)));
    } else {
      top = { digest: picked.digest, mediaType: index.mediaType ?? MEDIA_TYPES.ociIndex, bytes: topBytes };
      for (const entry of index.manifests) {
        const bytes = await store.readBlob(entry.digest, 'manifest');
        if (documentKind(bytes, `${where} ${entry.digest}`, entry.mediaType) !== 'manifest') {
          throw new LadingError('BAD_INPUT', `${where}: nested indexes are not pushed by the pipeline`);
        }
        children.push({ digest: entry.digest, mediaType: entry.mediaType, bytes });
        const staged = await addImage(
          entry.digest,
          bytes,
          unknownPlatform(entry.platform) ? undefined : formatPlatform(entry.platform!),
        );
        if (!unknownPlatform(entry.platform)) platforms.push(staged);
      }
      if (platforms.length === 0) throw new LadingError('BAD_INPUT', `${where}: the index lists no platform images`);
    }
  } else {
    const manifest = parseImageManifest(topBytes, `${where} manifest ${picked.digest}`);
    top = { digest: picked.digest, mediaType: manifest.mediaType ?? MEDIA_TYPES.ociManifest, bytes: topBytes };
    const staged = await addImage(picked.digest, topBytes, undefined);
    if (options.platform !== 'all' && staged.platform !== formatPlatform(parsePlatform(options.platform))) {
      throw new LadingError('USAGE', `${where} is ${staged.platform}, not ${options.platform}`, {
        option: 'platform',
      });
    }
    platforms.push(staged);
  }
  return {
    source,
    kind,
    top,
    children,
    blobs: [...blobs.values()],
    platforms,
    close: () => store.close(),
  };
}

/** What SOURCE's `:TAG` or `@DIGEST` names in index.json; without either, its one entry. */
function pickEntry(
  entries: readonly Descriptor[],
  selector: LayoutSelector,
  where: string,
): { digest: string; mediaType?: string } {
  if (selector && 'digest' in selector) {
    // A digest may name a manifest the top index only reaches through a nested index: its document says what it is.
    return entries.find((e) => e.digest === selector.digest) ?? { digest: selector.digest };
  }
  if (selector) {
    const hit = entries.find((e) => {
      const name = e.annotations?.[REF_NAME_ANNOTATION];
      return name !== undefined && (name === selector.tag || name.endsWith(`:${selector.tag}`));
    });
    if (!hit) throw new LadingError('NOT_FOUND', `${where} has no tag ${selector.tag}`);
    return hit;
  }
  const [only] = entries;
  if (!only) throw new LadingError('BAD_INPUT', `${where}: index.json lists no images`);
  if (entries.length > 1) {
    throw new LadingError('USAGE', `${where} holds ${entries.length} images; pick one with :TAG or @DIGEST`);
  }
  return only;
}

function platformOfConfig(raw: Buffer, what: string): string | undefined {
  const config = parseJson(raw, what) as Record<string, unknown>;
  const os = config['os'];
  const arch = config['architecture'];
  if (typeof os !== 'string' || typeof arch !== 'string' || !os || !arch) return undefined;
  const variant = typeof config['variant'] === 'string' ? (config['variant'] as string) : undefined;
  return formatPlatform({ os, architecture: arch, ...(variant ? { variant } : {}) });
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * `docker save` output has no manifest of its own: it is rewritten as an OCI layout under the staging directory (the
 * config and layer bytes unchanged, so the diff-ids hold), and the manifest digest is the SHA-256 of bytes written
 * here. That digest is what gets pushed, signed and tagged.
 */
async function dockerArchiveToLayout(
  path: string,
  reference: string | undefined,
  source: string,
  stagingDir: string,
): Promise<string> {
  const archive = await openPlainArchive(path, source);
  try {
    if (!archive.has('manifest.json'))
      throw new LadingError('BAD_INPUT', `${source}: no manifest.json (not a docker-archive)`);
    let raw: unknown;
    try {
      raw = JSON.parse((await archive.readSmall('manifest.json')).toString('utf8'));
    } catch {
      throw new LadingError('BAD_INPUT', `${source}: manifest.json is not valid JSON`);
    }
    if (!Array.isArray(raw) || raw.length === 0)
      throw new LadingError('BAD_INPUT', `${source}: manifest.json lists no images`);
    const entries = raw as DockerManifestEntry[];
    const entry = reference
      ? entries.find((e) => (e.RepoTags ?? []).some((t) => t === reference || t.endsWith(`/${reference}`)))
      : entries.length === 1
        ? entries[0]
        : undefined;
    if (!entry) {
      throw new LadingError(
        reference ? 'NOT_FOUND' : 'USAGE',
        reference
          ? `${source} has no image ${reference}`
          : `${source} holds ${entries.length} images; name one as docker-archive:FILE:REPO:TAG`,
      );
    }
    if (
      typeof entry.Config !== 'string' ||
      !Array.isArray(entry.Layers) ||
      entry.Layers.some((l) => typeof l !== 'string')
    ) {
      throw new LadingError('BAD_INPUT', `${source}: manifest.json entry is malformed`);
    }
    const dir = join(stagingDir, 'image');
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    const putBlob = async (bytes: Buffer): Promise<string> => {
      const hex = sha256Hex(bytes);
      await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
      return `sha256:${hex}`;
    };
    if (!archive.has(entry.Config)) throw new LadingError('NOT_FOUND', `${source}: config ${entry.Config} is missing`);
    const config = await archive.readSmall(entry.Config);
    const configDigest = await putBlob(config);
    const layers = [];
    for (const name of entry.Layers) {
      if (!archive.has(name)) throw new LadingError('NOT_FOUND', `${source}: layer ${name} is missing`);
      const head = await archive.readHead(name, 4);
      const mediaType =
        head[0] === 0x1f && head[1] === 0x8b
          ? MEDIA_TYPES.ociLayerGzip
          : head.readUInt32LE(0) === 0xfd2fb528
            ? MEDIA_TYPES.ociLayerZstd
            : MEDIA_TYPES.ociLayer;
      // Copied through a temporary name and moved under its digest once hashed: layers can be large.
      const tmp = join(dir, `layer-${layers.length}.tmp`);
      const { digest, size } = await copyHashing(archive.open(name), tmp, `layer ${name}`);
      await rename(tmp, join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
      layers.push({ mediaType, digest, size });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.length },
        layers,
      }),
    );
    const manifestDigest = await putBlob(manifest);
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: manifestDigest, size: manifest.length }],
      }),
    );
    return dir;
  } finally {
    await archive.close();
  }
}

async function copyHashing(stream: Readable, file: string, what: string): Promise<{ digest: string; size: number }> {
  const { createWriteStream } = await import('node:fs');
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_PUSH_BLOB_BYTES)
        throw new LadingError('LIMIT', `${what} is more than ${MAX_PUSH_BLOB_BYTES} bytes`);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** An already pushed image: named by digest, read (documents only) from the registry; its blobs stay there. */
async function stageRegistry(source: string, reference: string, options: StageOptions): Promise<StagedImage> {
  const ref = parseReference(reference);
  if (!ref.digest) {
    throw new LadingError('USAGE', `${source}: name the image by digest (registry:REF@sha256:…), not by tag`);
  }
  const registry = options.registry;
  if (!registry) throw new LadingError('USAGE', `${source}: a registry source needs registry access`);
  const repo = { registry: ref.registry, repository: ref.repository };
  const fetchDoc = async (digest: string): Promise<StagedDocument> => {
    const got = await registry.fetchManifest(repo, digest);
    if (!got) throw new LadingError('NOT_FOUND', `${source}: ${digest} not found in the registry`);
    if (got.digest !== digest) throw new LadingError('DIGEST_MISMATCH', `${source}: the registry served ${got.digest}`);
    return { digest, mediaType: got.mediaType, bytes: got.bytes };
  };
  const blobs = new Map<string, StagedBlob>();
  const scanBase = `registry:${ref.registry}/${ref.repository}`;
  const addImage = async (doc: StagedDocument, platform: string | undefined): Promise<StagedPlatform> => {
    const manifest = parseImageManifest(doc.bytes, `${source} ${doc.digest}`);
    for (const d of [manifest.config, ...manifest.layers]) {
      blobs.set(d.digest, {
        digest: d.digest,
        size: d.size,
        read: () => registry.fetchBlob(repo, d.digest, MAX_PUSH_BLOB_BYTES),
      });
    }
    let name = platform;
    if (!name) {
      const config = await registry.fetchBlob(repo, manifest.config.digest, MAX_METADATA_BYTES);
      name = platformOfConfig(config, `${source} config`) ?? 'linux/amd64';
    }
    return { digest: doc.digest, platform: name, arch: archLabel(name), scanTarget: `${scanBase}@${doc.digest}` };
  };
  const top = await fetchDoc(ref.digest);
  const children: StagedDocument[] = [];
  const platforms: StagedPlatform[] = [];
  let pushed = top;
  if (documentKind(top.bytes, source, top.mediaType) === 'index') {
    const index = parseImageIndex(top.bytes, source);
    const images = index.manifests.filter((m) => !unknownPlatform(m.platform));
    if (options.platform === 'all') {
      for (const entry of index.manifests) {
        const doc = await fetchDoc(entry.digest);
        children.push(doc);
        if (!unknownPlatform(entry.platform)) platforms.push(await addImage(doc, formatPlatform(entry.platform!)));
      }
    } else {
      const only = choosePlatform(images, options.platform, source);
      pushed = await fetchDoc(only.digest);
      platforms.push(await addImage(pushed, formatPlatform(only.platform!)));
    }
  } else {
    platforms.push(await addImage(top, undefined));
  }
  return {
    source,
    kind: 'registry',
    top: pushed,
    children,
    blobs: [...blobs.values()],
    platforms,
    registryRepo: repo,
    close: async () => {},
  };
}
