import type { Image } from '../image.js';
import type { OpenOptions } from '../open.js';
import { ArchiveBlobStore } from './blob-store.js';
import { imageFromLayout, type LayoutSelector } from './oci-layout.js';
import { openTarArchive } from './tar-archive.js';

/** An OCI layout packed in a plain tar, read in place by member offsets (never unpacked to disk). */
export async function openOciArchive(
  file: string,
  selector: LayoutSelector,
  ref: string,
  options: OpenOptions,
): Promise<Image> {
  const store = new ArchiveBlobStore(await openTarArchive(file));
  try {
    return await imageFromLayout(store, selector, ref, options);
  } catch (err) {
    await store.close();
    throw err;
  }
}
