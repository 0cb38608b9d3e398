import type { RepositoryRef } from '../registry/reference.js';

/** A manifest as served: its exact bytes (digests are over these), media type and digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/**
 * The few registry operations signing needs. Kept narrow so attest/ depends on behaviour, not on the client's
 * whole surface; `registry-adapter.ts` implements it with the registry module's client.
 */
export interface AttachmentRegistry {
  /** null when the registry says the tag or digest does not exist. */
  fetchManifest(repo: RepositoryRef, tagOrDigest: string): Promise<FetchedManifest | null>;
  /** The blob's bytes, verified against `digest`. */
  fetchBlob(repo: RepositoryRef, digest: string, maxBytes: number): Promise<Buffer>;
  pushBlob(repo: RepositoryRef, bytes: Buffer): Promise<void>;
  pushManifest(repo: RepositoryRef, tag: string, bytes: Buffer, mediaType: string): Promise<void>;
}
