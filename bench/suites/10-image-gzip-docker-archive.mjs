// The medium docker-archive gzip'd as a whole (`docker save | gzip`). Lading reads it in one streaming pass, walking
// each layer as the pass meets it, with nothing unpacked to disk; the floor is inflating the archive once.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureImage, MEDIUM } from './10-image-fixtures.mjs';

export const name = 'image-gzip-docker-archive';

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  const gz = `${image.dockerArchive}.gz`;
  if (!existsSync(gz))
    execFileSync('sh', ['-c', `gzip -6 -n -c '${image.dockerArchive}' > '${gz}.tmp' && mv '${gz}.tmp' '${gz}'`]);
  return {
    cases: [
      {
        label: 'lading sbom docker-archive.tar.gz',
        cmd: process.execPath,
        args: ['bin/lading', 'sbom', `docker-archive:${gz}`, '-o', 'cyclonedx-json=/dev/null'],
      },
      { label: 'gzip -dc whole archive (floor)', cmd: 'sh', args: ['-c', `gzip -dc '${gz}' > /dev/null`] },
    ],
  };
}
