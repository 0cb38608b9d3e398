/** The bounds of one push bundle (SERVER.md section 2); tests lower them, the server's config may too. */
export interface IngestLimits {
  /** The metadata part, JSON: 16 KiB. */
  maxMetadataBytes: number;
  /** Each evidence part: 64 MiB. */
  maxPartBytes: number;
  /** Parts in all, metadata included: 12. */
  maxParts: number;
  /** The whole bundle: 256 MiB. */
  maxTotalBytes: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxMetadataBytes: 16 * 1024,
  maxPartBytes: 64 * 1024 * 1024,
  maxParts: 12,
  maxTotalBytes: 256 * 1024 * 1024,
};
