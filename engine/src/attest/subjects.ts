import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { readInputFile } from './files.js';
import { resolveImage } from './image-target.js';
import type { AttachmentRegistry } from './registry-port.js';
import type { ResourceDescriptor } from './statement.js';

/** A file by its SHA-256, named by its base name. */
export async function fileDescriptor(path: string, what: string): Promise<ResourceDescriptor> {
  const bytes = await readInputFile(path, what);
  return { name: basename(path), digest: { sha256: createHash('sha256').update(bytes).digest('hex') } };
}

/**
 * `--subject` values: an existing file is hashed; anything else is an image reference resolved through the
 * registry (a tag becomes the digest it points to now). The registry is only created when needed.
 */
export async function describeSubject(value: string, registry: () => AttachmentRegistry): Promise<ResourceDescriptor> {
  if (existsSync(value)) return fileDescriptor(value, 'subject');
  const image = await resolveImage(registry(), value);
  return { name: image.name, digest: { sha256: image.digest.replace(/^sha256:/, '') } };
}
