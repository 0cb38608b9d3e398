import { LadingError } from '../../errors/lading-error.js';
import type { Image, StreamedLayer } from '../image.js';
import type { OpenOptions } from '../open.js';
import { describeSpec, type TargetSpec } from '../target-spec.js';
import { ArchiveBlobStore } from './blob-store.js';
import { imageFromDockerArchive } from './docker-archive.js';
import { imageFromLayout } from './oci-layout.js';
import { digestFromName, readArchiveOnce } from './tar-archive.js';

export type ArchiveSpec = Extract<TargetSpec, { kind: 'docker-archive' | 'oci-archive' | 'image-archive' }>;

/**
 * Reads a compressed docker-archive or OCI archive in one pass: `visit` meets every layer-like member on the way,
 * then the image is described from the metadata the pass kept, each layer naming the member that holds it.
 */
export async function readImageArchiveOnce(
  spec: ArchiveSpec,
  ref: string,
  options: OpenOptions & { maxInflatedBytes?: number },
  visit: (member: StreamedLayer) => Promise<void>,
): Promise<Image> {
  const archive = await readArchiveOnce(
    spec.path,
    async ({ name, data }) => {
      const promised = digestFromName(name);
      await visit(promised ? { name, data, promised } : { name, data });
    },
    // The archive may hold other images: it as a whole gets four times what the image's layers may inflate to.
    options.maxInflatedBytes !== undefined
      ? {
          maxInflatedBytes: 4 * options.maxInflatedBytes,
          limitWords: `four times the image's ${options.maxInflatedBytes}-byte limit (the archive may hold other images)`,
        }
      : {},
  );
  // A bare path names no kind: a docker-archive holds manifest.json (Docker 25+ writes an OCI layout beside it).
  if (spec.kind === 'image-archive' && !archive.has('manifest.json') && !archive.has('index.json')) {
    throw new LadingError('BAD_INPUT', `${spec.path} is a tar but holds neither manifest.json nor an OCI layout`);
  }
  const image =
    spec.kind === 'docker-archive' || (spec.kind === 'image-archive' && archive.has('manifest.json'))
      ? await imageFromDockerArchive(
          archive,
          spec.kind === 'docker-archive' ? spec.reference : undefined,
          named(spec, 'docker-archive', ref),
          options,
        )
      : await imageFromLayout(
          new ArchiveBlobStore(archive),
          spec.kind === 'oci-archive' ? spec.selector : undefined,
          named(spec, 'oci-archive', ref),
          options,
        );
  for (const layer of image.layers) {
    if (layer.member !== undefined) layer.member = archive.canonical(layer.member) ?? layer.member;
  }
  return image;
}

/** The report's name for the target: a bare path gets the scheme its contents turned out to have. */
function named(spec: ArchiveSpec, kind: 'docker-archive' | 'oci-archive', ref: string): string {
  return spec.kind === 'image-archive' ? describeSpec({ kind, path: spec.path, selector: undefined }) : ref;
}
