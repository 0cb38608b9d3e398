/**
 * Object-storage keys (docs/ci.md, "Object storage"). Two layouts:
 * - `seed004`: the per-architecture names of the SLSA guide the pipeline follows, `{image}` = `<repo basename>-<tag>`.
 *   They are overwritten by the next release with the same `{image}`, as the guide's are.
 * - `digest`: immutable keys under `by-digest/sha256/<hex>/`, with an `index.json` listing them: what a server pulls.
 */
export function seed004Keys(arch: string, image: string) {
  return {
    'sbom-cyclonedx': `sboms/${arch}/sbom-${image}-cyclonedx.json`,
    'sbom-spdx': `sboms/${arch}/sbom-${image}-spdx.json`,
    provenance: `attestations/${arch}/attestation-${image}.json`,
    report: `scans/${arch}/scan-${image}.json`,
  } as const;
}

export function byDigestKeys(digest: string) {
  const base = `by-digest/sha256/${digest.replace(/^sha256:/, '')}`;
  return {
    'sbom-cyclonedx': `${base}/sbom.cdx.json`,
    'sbom-spdx': `${base}/sbom.spdx.json`,
    report: `${base}/scan.json`,
    provenance: `${base}/provenance.intoto.json`,
    index: `${base}/index.json`,
  } as const;
}
