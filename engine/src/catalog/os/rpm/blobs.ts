/** The header blobs of an rpm database, and the damage found on the way (each a warning). */
export interface BlobRead {
  blobs: Buffer[];
  problems: string[];
}

export class DatabaseError extends Error {}
