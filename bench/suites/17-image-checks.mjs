// The image checks' cost: `lading sbom` of the ~300 MB image with and without --no-checks, as a docker-archive
// (uncompressed layers read in place: a file only the checks want is noted by its header, never read) and as an OCI
// layout (gzip layers: every byte is inflated either way). The checks add one metadata-only cataloger to the walk and
// a pass over the config and the noted files afterwards.
// Budget (issue: secret scanning and image checks add at most 20 % to the scan time of this image).
import { ensureImage, ladingCases, MEDIUM } from './10-image-fixtures.mjs';

export const name = 'image-checks';

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  const sbom = (target, extra) => ['sbom', target, '-o', 'cyclonedx-json=/dev/null', '--no-cache', '-q', ...extra];
  const docker = `docker-archive:${image.dockerArchive}`;
  const oci = `oci:${image.ociDir}`;
  return {
    cases: [
      ...ladingCases('docker-archive, --no-checks', sbom(docker, ['--no-checks']), 'dockerOff'),
      ...ladingCases('docker-archive, checks', sbom(docker, []), 'dockerOn'),
      ...ladingCases('oci gzip, --no-checks', sbom(oci, ['--no-checks']), 'ociOff'),
      ...ladingCases('oci gzip, checks', sbom(oci, []), 'ociOn'),
    ],
    budget: (m) => {
      const pct = (on, off) =>
        `${(((m[on] - m[off]) / m[off]) * 100).toFixed(1)} % (${m[off].toFixed(0)} → ${m[on].toFixed(0)} ms)`;
      return `budget <= +20 %: docker-archive ${pct('dockerOn', 'dockerOff')}; oci gzip ${pct('ociOn', 'ociOff')}`;
    },
  };
}
