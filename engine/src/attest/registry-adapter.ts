import { LadingError } from '../errors/lading-error.js';
import { MANIFEST_ACCEPT } from '../oci/media-types.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import type { AttachmentRegistry, FetchedManifest } from './registry-port.js';

/** The signing port backed by the registry module's client. */
export function attachmentRegistry(options: RegistryClientOptions = {}): AttachmentRegistry {
  const client = new RegistryClient(options);
  return {
    async fetchManifest(repo, tagOrDigest): Promise<FetchedManifest | null> {
      const ref = tagOrDigest.includes(':') ? { ...repo, digest: tagOrDigest } : { ...repo, tag: tagOrDigest };
      try {
        return await client.getManifest(ref, MANIFEST_ACCEPT);
      } catch (err) {
        if (err instanceof LadingError && err.code === 'NOT_FOUND') return null;
        throw err;
      }
    },
    fetchBlob: (repo, digest, maxBytes) => client.getBlobBytes(repo, digest, maxBytes),
    async pushBlob(repo, bytes) {
      await client.pushBlob(repo, bytes);
    },
    async pushManifest(repo, tag, bytes, mediaType) {
      await client.putManifest(repo, tag, bytes, mediaType);
    },
  };
}
