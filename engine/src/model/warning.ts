/** A problem that did not stop the scan: reported, never silently dropped (Syft's "unknowns"). */
export interface ScanWarning {
  /** Cataloger id, or the layer that raised it (`image`, `sbom`, `vulndb`, `match`, …). */
  cataloger: string;
  path?: string;
  message: string;
}
