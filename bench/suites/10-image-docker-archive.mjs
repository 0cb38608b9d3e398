// SBOM of a ~300 MB docker-archive with uncompressed layers: Lading (seeking over unwanted contents) vs Trivy.
// Budget (docs/performance.md, "Budgets"): Lading <= 0.5 x Trivy, where Trivy's time is minus its own startup (`--version`,
// it is UPX-packed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImage, ladingCases, MEDIUM, TRIVY } from './10-image-fixtures.mjs';

export const name = 'image-docker-archive';

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  const cache = mkdtempSync(join(tmpdir(), 'trivy-cache-'));
  console.log(`image: ${image.dockerArchive} (${(image.dockerArchiveBytes / 1e6).toFixed(0)} MB)`);
  const trivyArgs = [
    'image',
    '--input',
    image.dockerArchive,
    '--cache-dir',
    cache,
    '--skip-db-update',
    '--skip-java-db-update',
    '--offline-scan',
    '--format',
    'cyclonedx',
    '--skip-files',
    '**/*.jar',
    '--skip-files',
    '**/*.war',
    '-o',
    '/dev/null',
  ];
  return {
    cases: [
      ...ladingCases('lading sbom docker-archive (cyclonedx)', [
        'sbom',
        `docker-archive:${image.dockerArchive}`,
        '-o',
        'cyclonedx-json=/dev/null',
        // A kept result would spare the walk this suite times (bench/suites/15-result-cache.mjs times the cache).
        '--no-cache',
      ]),
      // Trivy caches analysed layers by digest: clear the cache each run so it does the work every time.
      {
        label: 'trivy image --input (cyclonedx, cold cache)',
        key: 'trivy',
        cmd: 'sh',
        args: ['-c', `rm -rf '${cache}' && exec '${TRIVY}' ${trivyArgs.map((a) => `'${a}'`).join(' ')}`],
      },
      { label: 'trivy --version (startup to subtract)', key: 'trivyVersion', cmd: TRIVY, args: ['--version'] },
    ],
    budget: (m, cpu, cores) => {
      const trivy = m.trivy - m.trivyVersion;
      const line = (k) =>
        `${k}: ${(m[k] / trivy).toFixed(2)} x Trivy's own time (${m[k].toFixed(0)} / ${trivy.toFixed(0)} ms)`;
      const lines = [
        `budget <= 0.5 x Trivy (${(trivy / 2).toFixed(0)} ms); ${['lading', 'lading26']
          .filter((k) => k in m)
          .map(line)
          .join('; ')}`,
      ];
      // CPU over wall is how many cores a run kept busy; CPU over the cores is the least wall any schedule needs.
      if ('trivy' in cpu && 'trivyVersion' in cpu) {
        const trivyCpu = cpu.trivy - cpu.trivyVersion;
        lines.push(`trivy's own work: ${trivyCpu.toFixed(0)} ms CPU, ${(trivyCpu / trivy).toFixed(1)} cores busy`);
      }
      for (const k of ['lading', 'lading26'].filter((key) => key in cpu)) {
        lines.push(
          `${k}: ${cpu[k].toFixed(0)} ms CPU, ${(cpu[k] / m[k]).toFixed(1)} cores busy; over ${cores} cores ` +
            `no schedule ends under ${(cpu[k] / cores).toFixed(0)} ms`,
        );
      }
      return lines.join('\n');
    },
    cleanup: () => rmSync(cache, { recursive: true, force: true }),
  };
}
