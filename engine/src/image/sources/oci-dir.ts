import type { Image } from '../image.js';
import type { OpenOptions } from '../open.js';
import { DirBlobStore } from './blob-store.js';
import { imageFromLayout, type LayoutSelector } from './oci-layout.js';

export function openOciDir(dir: string, selector: LayoutSelector, ref: string, options: OpenOptions): Promise<Image> {
  return imageFromLayout(new DirBlobStore(dir), selector, ref, options);
}
