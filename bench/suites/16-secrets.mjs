// The secret scanner's cost: `lading scan --sbom-only` of the ~300 MB image with and without --no-secrets, as a
// docker-archive (uncompressed layers: without secrets the walk seeks over what no cataloger wants, the scanner must
// read every candidate text file) and as an OCI layout (gzip layers: every byte is inflated either way).
// Budget (issue: secret scanning and image checks add at most 20 % to the scan time of this image).
import { ensureImage, ladingCases, MEDIUM } from './10-image-fixtures.mjs';

export const name = 'secrets';

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  const scan = (target, extra) => ['scan', target, '--sbom-only', '-o', 'json=/dev/null', '--no-cache', '-q', ...extra];
  const docker = `docker-archive:${image.dockerArchive}`;
  const oci = `oci:${image.ociDir}`;
  return {
    cases: [
      ...ladingCases('docker-archive, --no-secrets', scan(docker, ['--no-secrets']), 'dockerOff'),
      ...ladingCases('docker-archive, secrets', scan(docker, []), 'dockerOn'),
      ...ladingCases('oci gzip, --no-secrets', scan(oci, ['--no-secrets']), 'ociOff'),
      ...ladingCases('oci gzip, secrets', scan(oci, []), 'ociOn'),
    ],
    budget: (m) => {
      const pct = (on, off) =>
        `${(((m[on] - m[off]) / m[off]) * 100).toFixed(1)} % (${m[off].toFixed(0)} → ${m[on].toFixed(0)} ms)`;
      return `budget <= +20 %: docker-archive ${pct('dockerOn', 'dockerOff')}; oci gzip ${pct('ociOn', 'ociOff')}`;
    },
  };
}
