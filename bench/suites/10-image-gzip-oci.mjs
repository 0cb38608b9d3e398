// The same ~300 MB image as an OCI layout with gzip layers. Budget: Lading <= 1.3 x the time to inflate the
// largest layer (layers inflate concurrently on libuv's pool, so the largest one is the floor).
import {
  ensureImage,
  gunzipBudget,
  gunzipLargestCase,
  inflateAllLayersCase,
  ladingCases,
  MEDIUM,
} from './10-image-fixtures.mjs';

export const name = 'image-gzip-oci';

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  const inflate = `const z=require('zlib'),f=require('fs');f.createReadStream(${JSON.stringify(image.largestGzipLayer)}).pipe(z.createGunzip({chunkSize:1<<19})).resume();`;
  return {
    cases: [
      ...ladingCases('lading sbom oci (gzip layers)', [
        'sbom',
        `oci:${image.ociDir}`,
        '-o',
        'cyclonedx-json=/dev/null',
        // A kept result would spare the walk this suite times (bench/suites/15-result-cache.mjs times the cache).
        '--no-cache',
      ]),
      gunzipLargestCase(image),
      { label: 'node zlib inflate largest layer (floor)', key: 'zlib', cmd: process.execPath, args: ['-e', inflate] },
      inflateAllLayersCase(image),
    ],
    budget: gunzipBudget,
  };
}
