// Assembles small container images from entry lists, in every on-disk form Lading reads: an OCI layout directory,
// an OCI archive (tar of the layout) and a docker-archive (as `docker save` writes it). Tests build images here
// instead of checking in binary blobs, so every digest below is computed, never copied.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export type LayerEntry =
  | { type: 'file'; path: string; content: string | Buffer; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string }
  /** Deletes `path` from lower layers (written as `dir/.wh.name`). */
  | { type: 'whiteout'; path: string }
  /** Hides everything lower layers put under the directory `path` (written as `path/.wh..wh..opq`). */
  | { type: 'opaque'; path: string };

/** A layer as entries, or as raw tar bytes for hostile inputs the entry list cannot express. */
export type LayerSpec = LayerEntry[] | { rawTar: Buffer };

export type Compression = 'gzip' | 'zstd' | 'none';

export interface ImageConfigInput {
  user?: string;
  env?: string[];
  entrypoint?: string[];
  cmd?: string[];
  labels?: Record<string, string>;
  workingDir?: string;
  /** `created_by` per layer (bottom first); defaults to `layer N`. */
  createdBy?: string[];
}

export interface BuildImageOptions {
  layers: LayerSpec[];
  config?: ImageConfigInput;
  /** Compression of OCI blobs (docker-archive layers are always plain tars, as `docker save` writes them). */
  compression?: Compression;
  /** `repo:tag`; default `lading-test/image:latest`. */
  tag?: string;
  /** Platforms (`os/arch[/variant]`); more than one writes a nested image index. Default `linux/amd64`. Each
   * platform's image gets an extra top layer with `/etc/lading-platform` naming it, so tests can tell them apart. */
  platforms?: string[];
  /** Gzip the whole docker-archive (`docker save | gzip`). */
  gzipDockerArchive?: boolean;
}

export interface BuiltPlatformImage {
  platform: string;
  manifestDigest: string;
  configDigest: string;
  diffIds: string[];
  /** Digests of the blobs as stored in the OCI layout (compressed). */
  layerDigests: string[];
}

export interface BuiltImage {
  ociDir: string;
  ociArchive: string;
  dockerArchive: string;
  /** The first platform's image manifest (the one in the docker-archive). */
  manifestDigest: string;
  configDigest: string;
  diffIds: string[];
  layerDigests: string[];
  /** Digest of the nested index when several platforms were asked for. */
  indexDigest?: string;
  images: BuiltPlatformImage[];
}

const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: {
    none: 'application/vnd.oci.image.layer.v1.tar',
    gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
    zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  },
} as const;

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Entry paths are used as given minus the leading `/`, so tests can write hostile names like `../x`. */
function tarName(path: string): string {
  return path.replace(/^\/+/, '');
}

function splitParent(path: string): { parent: string; base: string } {
  const name = tarName(path).replace(/\/+$/, '');
  const at = name.lastIndexOf('/');
  return at < 0 ? { parent: '', base: name } : { parent: name.slice(0, at + 1), base: name.slice(at + 1) };
}

/** A plain tar of the entries (fixed mtime, root-owned), built in memory: test layers are small. */
export async function layerTar(entries: LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const mtime = new Date(0);
  const done = collect(pack);
  for (const e of entries) {
    switch (e.type) {
      case 'file': {
        const content = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
        await addEntry(pack, { name: tarName(e.path), type: 'file', mode: e.mode ?? 0o644, mtime }, content);
        break;
      }
      case 'dir':
        await addEntry(pack, { name: tarName(e.path), type: 'directory', mode: e.mode ?? 0o755, mtime });
        break;
      case 'symlink':
        await addEntry(pack, { name: tarName(e.path), type: 'symlink', linkname: e.target, mode: 0o777, mtime });
        break;
      case 'hardlink':
        await addEntry(pack, { name: tarName(e.path), type: 'link', linkname: tarName(e.target), mode: 0o644, mtime });
        break;
      case 'whiteout': {
        const { parent, base } = splitParent(e.path);
        await addEntry(pack, { name: `${parent}.wh.${base}`, type: 'file', mode: 0o644, mtime }, Buffer.alloc(0));
        break;
      }
      case 'opaque':
        await addEntry(pack, {
          name: `${tarName(e.path).replace(/\/+$/, '')}/.wh..wh..opq`,
          type: 'file',
          mode: 0o644,
          mtime,
        });
        break;
    }
  }
  pack.finalize();
  return done;
}

type TarHeader = Parameters<tar.Pack['entry']>[0];

function addEntry(pack: tar.Pack, header: TarHeader, content: Buffer = Buffer.alloc(0)): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ ...header, size: content.length, uid: 0, gid: 0 }, content, (err) => (err ? reject(err) : resolve()));
  });
}

function collect(pack: tar.Pack): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pack.on('data', (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

/** Compresses a layer; zstd goes through the `zstd` program because Node 20's zlib cannot write it. */
export function compress(data: Buffer, compression: Compression): Buffer {
  if (compression === 'gzip') return gzipSync(data);
  if (compression === 'none') return data;
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Writes files into a tar archive on disk (directory entries are implied by the paths). */
export async function writeTar(file: string, files: { name: string; content: Buffer }[]): Promise<void> {
  const pack = tar.pack();
  const done = collect(pack);
  for (const f of files)
    await addEntry(pack, { name: f.name, type: 'file', mode: 0o644, mtime: new Date(0) }, f.content);
  pack.finalize();
  await writeFile(file, await done);
}

interface PlatformParts {
  platform: string;
  layers: { tar: Buffer; blob: Buffer; diffId: string; digest: string }[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

function platformFields(platform: string): { os: string; architecture: string; variant?: string } {
  const [os = 'linux', architecture = 'amd64', variant] = platform.split('/');
  return variant ? { os, architecture, variant } : { os, architecture };
}

async function buildPlatform(
  options: BuildImageOptions,
  platform: string,
  markPlatform: boolean,
): Promise<PlatformParts> {
  const compression = options.compression ?? 'gzip';
  const specs: LayerSpec[] = markPlatform
    ? [...options.layers, [{ type: 'file', path: '/etc/lading-platform', content: `${platform}\n` }]]
    : options.layers;
  const layers = [];
  for (const spec of specs) {
    const plain = Array.isArray(spec) ? await layerTar(spec) : spec.rawTar;
    const blob = compress(plain, compression);
    layers.push({ tar: plain, blob, diffId: sha256(plain), digest: sha256(blob) });
  }
  const c = options.config ?? {};
  const history = [
    // An empty_layer step first, as real Dockerfiles have (ENV, LABEL…): readers must skip it when pairing.
    { created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ENV LADING_TEST=1', empty_layer: true },
    ...layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: c.createdBy?.[i] ?? `layer ${i}` })),
  ];
  const config = Buffer.from(
    JSON.stringify({
      ...platformFields(platform),
      created: '2024-01-01T00:00:00Z',
      config: {
        ...(c.user !== undefined ? { User: c.user } : {}),
        Env: c.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
        Cmd: c.cmd ?? ['/bin/sh'],
        ...(c.labels ? { Labels: c.labels } : {}),
        ...(c.workingDir !== undefined ? { WorkingDir: c.workingDir } : {}),
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history,
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: MT.layer[compression], digest: l.digest, size: l.blob.length })),
    }),
  );
  return { platform, layers, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

/** The files of an OCI layout, as relative names → bytes. */
function layoutFiles(parts: PlatformParts[], tag: string): { files: Map<string, Buffer>; indexDigest?: string } {
  const files = new Map<string, Buffer>();
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  for (const p of parts) {
    files.set(blobPath(p.configDigest), p.config);
    files.set(blobPath(p.manifestDigest), p.manifest);
    for (const l of p.layers) files.set(blobPath(l.digest), l.blob);
  }
  const refName = tag.includes(':') ? tag.slice(tag.lastIndexOf(':') + 1) : tag;
  const annotations = { 'org.opencontainers.image.ref.name': refName };
  let top: Record<string, unknown>;
  let indexDigest: string | undefined;
  const [only] = parts;
  if (parts.length === 1 && only) {
    top = { mediaType: MT.manifest, digest: only.manifestDigest, size: only.manifest.length, annotations };
  } else {
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.index,
        manifests: parts.map((p) => ({
          mediaType: MT.manifest,
          digest: p.manifestDigest,
          size: p.manifest.length,
          platform: platformFields(p.platform),
        })),
      }),
    );
    indexDigest = sha256(nested);
    files.set(blobPath(indexDigest), nested);
    top = { mediaType: MT.index, digest: indexDigest, size: nested.length, annotations };
  }
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [top] })));
  return indexDigest ? { files, indexDigest } : { files };
}

/** The files of a docker-archive holding the given images (layers shared by digest are written once). */
function dockerArchiveFiles(images: { parts: PlatformParts; tags: string[] }[]): { name: string; content: Buffer }[] {
  const out = new Map<string, Buffer>();
  const manifest = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { parts, tags } of images) {
    const configName = `${parts.configDigest.slice(7)}.json`;
    out.set(configName, parts.config);
    const layerNames = parts.layers.map((l) => {
      const name = `${l.diffId.slice(7)}/layer.tar`;
      out.set(name, l.tar);
      return name;
    });
    manifest.push({ Config: configName, RepoTags: tags, Layers: layerNames });
    const top = parts.layers.at(-1)?.diffId.slice(7) ?? '';
    for (const t of tags) {
      const at = t.lastIndexOf(':');
      const repo = t.slice(0, at);
      repositories[repo] = { ...repositories[repo], [t.slice(at + 1)]: top };
    }
  }
  out.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  out.set('repositories', Buffer.from(JSON.stringify(repositories)));
  return [...out].map(([name, content]) => ({ name, content }));
}

async function writeDockerArchive(
  file: string,
  images: { parts: PlatformParts; tags: string[] }[],
  gz: boolean,
): Promise<void> {
  const files = dockerArchiveFiles(images);
  await writeTar(file, files);
  if (gz) {
    await writeFile(file, gzipSync(await readFile(file)));
  }
}

/**
 * Writes the image under `dir` as `oci/` (layout), `image-oci.tar` (OCI archive) and `image-docker.tar`
 * (docker-archive, `.tar.gz` when gzipped) and returns where they are and every digest.
 */
export async function buildImage(dir: string, options: BuildImageOptions): Promise<BuiltImage> {
  const tag = options.tag ?? 'lading-test/image:latest';
  const platforms = options.platforms ?? ['linux/amd64'];
  const parts: PlatformParts[] = [];
  for (const p of platforms) parts.push(await buildPlatform(options, p, platforms.length > 1));
  const first = parts[0];
  if (!first) throw new Error('buildImage needs at least one platform');

  const { files, indexDigest } = layoutFiles(parts, tag);
  const ociDir = join(dir, 'oci');
  for (const [name, content] of files) {
    await mkdir(join(ociDir, name, '..'), { recursive: true });
    await writeFile(join(ociDir, name), content);
  }
  const ociArchive = join(dir, 'image-oci.tar');
  await writeTar(
    ociArchive,
    [...files].map(([name, content]) => ({ name, content })),
  );
  const dockerArchive = join(dir, options.gzipDockerArchive ? 'image-docker.tar.gz' : 'image-docker.tar');
  await writeDockerArchive(dockerArchive, [{ parts: first, tags: [tag] }], !!options.gzipDockerArchive);

  const images = parts.map((p) => ({
    platform: p.platform,
    manifestDigest: p.manifestDigest,
    configDigest: p.configDigest,
    diffIds: p.layers.map((l) => l.diffId),
    layerDigests: p.layers.map((l) => l.digest),
  }));
  return {
    ociDir,
    ociArchive,
    dockerArchive,
    manifestDigest: first.manifestDigest,
    configDigest: first.configDigest,
    diffIds: images[0]?.diffIds ?? [],
    layerDigests: images[0]?.layerDigests ?? [],
    ...(indexDigest ? { indexDigest } : {}),
    images,
  };
}

/** A docker-archive with several images (`docker save a:1 b:2`), each given by its layers and tags. */
export async function buildMultiImageDockerArchive(
  file: string,
  images: (Omit<BuildImageOptions, 'platforms' | 'tag'> & { tags: string[] })[],
): Promise<BuiltPlatformImage[]> {
  const built: { parts: PlatformParts; tags: string[] }[] = [];
  for (const img of images) built.push({ parts: await buildPlatform(img, 'linux/amd64', false), tags: img.tags });
  await writeDockerArchive(file, built, false);
  return built.map(({ parts }) => ({
    platform: parts.platform,
    manifestDigest: parts.manifestDigest,
    configDigest: parts.configDigest,
    diffIds: parts.layers.map((l) => l.diffId),
    layerDigests: parts.layers.map((l) => l.digest),
  }));
}

/** The members of a plain tar, in order (to rebuild an archive with one member changed). */
export async function membersOf(archive: Buffer): Promise<{ name: string; content: Buffer }[]> {
  const out: { name: string; content: Buffer }[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: unknown) => parts.push(c as Buffer));
    stream.on('end', () => {
      if (header.type === 'file') out.push({ name: header.name, content: Buffer.concat(parts) });
      next();
    });
  });
  extract.end(archive);
  await done;
  return out;
}
