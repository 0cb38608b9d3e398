// The same ~300 MB image as an OCI layout with gzip layers. Budget: Lading <= 1.3 x the time to inflate the
// largest layer (layers inflate concurrently on libuv's pool, so the largest one is the floor).
import { ensureImage, MEDIUM } from './10-image-fixtures.mjs';

export const name = 'image-gzip-oci';

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  const inflate = `const z=require('zlib'),f=require('fs');f.createReadStream(${JSON.stringify(image.largestGzipLayer)}).pipe(z.createGunzip()).resume();`;
  return {
    cases: [
      {
        label: 'lading sbom oci (gzip layers)',
        cmd: process.execPath,
        args: ['bin/lading', 'sbom', `oci:${image.ociDir}`, '-o', 'cyclonedx-json=/dev/null'],
      },
      {
        label: 'gzip -dc largest layer (floor)',
        cmd: 'sh',
        args: ['-c', `gzip -dc '${image.largestGzipLayer}' > /dev/null`],
      },
      { label: 'node zlib inflate largest layer (floor)', cmd: process.execPath, args: ['-e', inflate] },
    ],
  };
}
