// Peak memory on a ~2 GB image (budget < 300 MB RSS), measured with GNU time; then timed like the others.
import { spawnSync } from 'node:child_process';
import { ensureImage, LARGE } from './10-image-fixtures.mjs';

export const name = 'image-rss';

function peakRss(args) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lading failed: ${r.stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  return (kb / 1024).toFixed(0);
}

export async function setup() {
  const image = await ensureImage('large', LARGE);
  console.log(`image: ${image.dockerArchive} (${(image.dockerArchiveBytes / 1e9).toFixed(2)} GB)`);
  const docker = [
    'bin/lading',
    'sbom',
    `docker-archive:${image.dockerArchive}`,
    '-o',
    'cyclonedx-json=/dev/null',
    '--no-cache',
  ];
  const oci = ['bin/lading', 'sbom', `oci:${image.ociDir}`, '-o', 'cyclonedx-json=/dev/null', '--no-cache'];
  console.log(`peak RSS docker-archive: ${peakRss(docker)} MB; OCI gzip layout: ${peakRss(oci)} MB`);
  return {
    cases: [
      { label: 'lading sbom docker-archive 2 GB', cmd: process.execPath, args: docker, runs: 3 },
      { label: 'lading sbom oci gzip 2 GB', cmd: process.execPath, args: oci, runs: 3 },
    ],
  };
}
