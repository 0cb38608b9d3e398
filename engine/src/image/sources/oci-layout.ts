import { pipeline } from 'node:stream';
import { LadingError } from '../../errors/lading-error.js';
import type { TargetInfo } from '../../model/target.js';
import { type Descriptor, REF_NAME_ANNOTATION } from '../../oci/descriptor.js';
import {
  checkContainerImage,
  documentKind,
  MAX_INDEX_DEPTH,
  parseImageIndex,
  parseImageManifest,
} from '../../oci/manifest.js';
import { checkImagePlatform, choosePlatform, DEFAULT_PLATFORM, parsePlatform } from '../../oci/platform.js';
import { layerInfos, parseImageConfig } from '../config.js';
import type { Image, ImageLayer } from '../image.js';
import { verifying } from '../layer/verify.js';
import type { OpenOptions } from '../open.js';
import type { BlobStore } from './blob-store.js';

/** What to pick from a layout's index.json: a tag (its ref.name annotation) or a manifest digest. */
export type LayoutSelector = { tag: string } | { digest: string } | undefined;

/** What index.json points at: an entry of it, or (picked by @DIGEST) just a digest, whose document says what it is. */
type Picked = Pick<Descriptor, 'digest'> & Partial<Pick<Descriptor, 'mediaType' | 'annotations'>>;

function refNameMatches(refName: string | undefined, tag: string): boolean {
  if (refName === undefined) return false;
  // Tools write either the bare tag (skopeo, umoci) or a full reference (buildkit, `docker save` since v25).
  return refName === tag || refName.endsWith(`:${tag}`) || tag.endsWith(`:${refName}`);
}

function pickTop(manifests: Descriptor[], selector: LayoutSelector, where: string): Picked {
  const tags = manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).filter((t): t is string => !!t);
  if (selector && 'digest' in selector) {
    const hit = manifests.find((m) => m.digest === selector.digest);
    if (hit) return hit;
    return { digest: selector.digest };
  }
  if (selector) {
    const hit = manifests.find((m) => refNameMatches(m.annotations?.[REF_NAME_ANNOTATION], selector.tag));
    if (hit) return hit;
    throw new LadingError('NOT_FOUND', `${where} has no tag ${selector.tag} (tags: ${tags.join(', ') || 'none'})`);
  }
  const [only] = manifests;
  if (manifests.length === 1 && only) return only;
  if (manifests.length === 0) throw new LadingError('BAD_INPUT', `${where}: index.json lists no images`);
  throw new LadingError(
    'USAGE',
    `${where} holds ${manifests.length} images; pick one with :TAG or @DIGEST (tags: ${tags.join(', ') || 'none'})`,
  );
}

/** An image from an OCI layout's blobs: index (nested indexes too) → platform → manifest → config → layers. */
export async function imageFromLayout(
  store: BlobStore,
  selector: LayoutSelector,
  ref: string,
  options: OpenOptions,
): Promise<Image> {
  parsePlatform(options.platform ?? DEFAULT_PLATFORM); // a malformed --platform is a usage error, whatever the image
  const top = parseImageIndex(await store.readTopFile('index.json'), `${ref} index.json`).manifests;
  let desc: Picked = pickTop(top, selector, ref);
  const tag = desc.annotations?.[REF_NAME_ANNOTATION];
  let raw = await store.readBlob(desc.digest, 'manifest');
  for (let depth = 0; documentKind(raw, `${ref} manifest ${desc.digest}`, desc.mediaType) === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH) throw new LadingError('BAD_INPUT', `${ref}: image indexes nest too deeply`);
    desc = choosePlatform(parseImageIndex(raw, `${ref} index ${desc.digest}`).manifests, options.platform, ref);
    raw = await store.readBlob(desc.digest, 'manifest');
  }
  const manifest = parseImageManifest(raw, `${ref} manifest ${desc.digest}`);
  checkContainerImage(manifest, ref);
  const rawConfig = await store.readBlob(manifest.config.digest, 'config');
  const config = parseImageConfig(rawConfig, `${ref} config`);
  checkImagePlatform(options.platform, config.platform, ref);
  if (config.diffIds.length !== manifest.layers.length) {
    throw new LadingError(
      'BAD_INPUT',
      `${ref}: manifest lists ${manifest.layers.length} layers but the config ${config.diffIds.length}`,
    );
  }
  for (const l of manifest.layers) {
    if (!(await store.hasBlob(l.digest)))
      throw new LadingError('NOT_FOUND', `${ref}: layer blob ${l.digest} is missing`);
  }
  const infos = layerInfos(config, manifest.layers);
  const layers: ImageLayer[] = infos.map((info, i) => {
    const blob = manifest.layers[i] as Descriptor;
    const layer: ImageLayer = {
      info,
      open: async () => pipeline(store.openBlob(blob.digest), verifying(blob.digest, 'blob'), () => {}),
      verifiedBlob: true,
    };
    if (store.memberOf) layer.member = store.memberOf(blob.digest);
    return layer;
  });
  const target: TargetInfo = {
    kind: 'image',
    ref,
    digest: desc.digest,
    imageId: manifest.config.digest,
    layers: infos,
    config: config.summary,
  };
  if (config.platform) target.platform = config.platform;
  if (tag) target.repoTags = [tag];
  return { target, layers, rawConfig, close: () => store.close() };
}
