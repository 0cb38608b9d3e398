import { pipeline } from 'node:stream';
import { LadingError } from '../../errors/lading-error.js';
import type { TargetInfo } from '../../model/target.js';
import { checkImagePlatform, DEFAULT_PLATFORM, parsePlatform } from '../../oci/platform.js';
import { layerInfos, parseImageConfig } from '../config.js';
import type { Image, ImageLayer } from '../image.js';
import { sniffCompression } from '../layer/decompress.js';
import { checkDigest, digestOf, verifying } from '../layer/verify.js';
import type { OpenOptions } from '../open.js';
import { type ArchiveMember, digestFromName, openTarArchive, type TarArchive } from './tar-archive.js';

interface ManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseManifestJson(raw: Buffer, where: string): ManifestEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new LadingError('BAD_INPUT', `${where}: manifest.json is not valid JSON`);
  }
  if (!Array.isArray(doc) || doc.length === 0)
    throw new LadingError('BAD_INPUT', `${where}: manifest.json lists no images`);
  return doc.map((e, i) => {
    const entry = e as Partial<Record<keyof ManifestEntry, unknown>>;
    if (
      typeof entry.Config !== 'string' ||
      !Array.isArray(entry.Layers) ||
      !entry.Layers.every((l) => typeof l === 'string')
    ) {
      throw new LadingError('BAD_INPUT', `${where}: manifest.json entry ${i} is malformed`);
    }
    const tags = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    return { Config: entry.Config, RepoTags: tags, Layers: entry.Layers as string[] };
  });
}

/** `alpine`, `alpine:latest`, `docker.io/library/alpine:latest` all name the same tag. */
export function normalizeTag(tag: string): string {
  let t = tag;
  const lastSlash = t.lastIndexOf('/');
  if (!t.slice(lastSlash + 1).includes(':') && !t.includes('@')) t += ':latest';
  t = t.replace(/^docker\.io\//, '').replace(/^index\.docker\.io\//, '');
  return t.replace(/^library\//, '');
}

function pickImage(entries: ManifestEntry[], reference: string | undefined, where: string): ManifestEntry {
  const allTags = entries.flatMap((e) => e.RepoTags);
  if (reference !== undefined) {
    const index = /^@(\d+)$/.exec(reference);
    if (index) {
      const hit = entries[Number(index[1])];
      if (hit) return hit;
      throw new LadingError('NOT_FOUND', `${where} has no image ${reference} (it holds ${entries.length})`);
    }
    const want = normalizeTag(reference);
    const hit = entries.find((e) => e.RepoTags.some((t) => normalizeTag(t) === want));
    if (hit) return hit;
    throw new LadingError('NOT_FOUND', `${where} has no tag ${reference} (tags: ${allTags.join(', ') || 'none'})`);
  }
  const [only] = entries;
  if (entries.length === 1 && only) return only;
  throw new LadingError(
    'USAGE',
    `${where} holds ${entries.length} images; pick one with docker-archive:PATH:REPO:TAG or :@INDEX ` +
      `(tags: ${allTags.join(', ') || 'none'})`,
  );
}

async function seekableMember(archive: TarArchive, name: string): Promise<ArchiveMember | undefined> {
  const member = archive.locate(name);
  if (!member || member.size < 512) return undefined;
  return sniffCompression(await archive.readHead(name, 4)) === 'none' ? member : undefined;
}

/** An image from a plain `docker save` archive, chosen by tag when the archive holds several. */
export async function openDockerArchive(
  file: string,
  reference: string | undefined,
  ref: string,
  options: Pick<OpenOptions, 'platform'> = {},
): Promise<Image> {
  const archive = await openTarArchive(file);
  try {
    return await imageFromDockerArchive(archive, reference, ref, options);
  } catch (err) {
    await archive.close();
    throw err;
  }
}

/**
 * The image a `docker save` archive holds. Layers of a plain tar are read in place; those of a compressed one
 * (read in one pass, see `readArchiveOnce`) were read during that pass, and are matched to it by `member`.
 * A `--platform` the image's config does not satisfy is refused, as for a single-platform OCI image.
 */
export async function imageFromDockerArchive(
  archive: TarArchive,
  reference: string | undefined,
  ref: string,
  options: Pick<OpenOptions, 'platform'> = {},
): Promise<Image> {
  parsePlatform(options.platform ?? DEFAULT_PLATFORM); // a malformed --platform is a usage error, whatever the image
  if (!archive.has('manifest.json'))
    throw new LadingError('BAD_INPUT', `${ref}: no manifest.json (not a docker-archive)`);
  const entry = pickImage(parseManifestJson(await archive.readSmall('manifest.json'), ref), reference, ref);
  if (!archive.has(entry.Config)) throw new LadingError('NOT_FOUND', `${ref}: config ${entry.Config} is missing`);
  const rawConfig = await archive.readSmall(entry.Config);
  const promised = digestFromName(entry.Config);
  if (promised) checkDigest(rawConfig, promised, `${ref} config`);
  const config = parseImageConfig(rawConfig, `${ref} config`);
  checkImagePlatform(options.platform, config.platform, ref);
  if (config.diffIds.length !== entry.Layers.length) {
    throw new LadingError(
      'BAD_INPUT',
      `${ref}: manifest.json lists ${entry.Layers.length} layers but the config ${config.diffIds.length}`,
    );
  }
  const infos = layerInfos(
    config,
    entry.Layers.map((name) => {
      const digest = digestFromName(name);
      return digest ? { digest } : {};
    }),
  );
  const layers: ImageLayer[] = [];
  for (const [i, name] of entry.Layers.entries()) {
    if (!archive.has(name)) throw new LadingError('NOT_FOUND', `${ref}: layer ${name} is missing`);
    const info = infos[i]!;
    const member = await seekableMember(archive, name);
    const size = archive.sizeOf(name);
    if (size !== undefined) info.size = size;
    // Streamed layers are verified against the digest their name promises (the walk relies on that); seekable
    // ones are read in place, only where wanted, so nothing whole is there to hash.
    const promised = info.digest;
    const layer: ImageLayer = {
      info,
      member: name,
      open: async () =>
        promised ? pipeline(archive.open(name), verifying(promised, 'blob'), () => {}) : archive.open(name),
    };
    if (promised) layer.verifiedBlob = true;
    if (member) layer.seekable = { file: archive.path, offset: member.offset, size: member.size };
    layers.push(layer);
  }
  const target: TargetInfo = {
    kind: 'image',
    ref,
    imageId: digestOf(rawConfig),
    layers: infos,
    config: config.summary,
  };
  if (config.platform) target.platform = config.platform;
  if (entry.RepoTags.length) target.repoTags = entry.RepoTags;
  return { target, layers, rawConfig, close: () => archive.close() };
}
