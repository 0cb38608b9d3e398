// How much of an image scan is the JIT warming up: one fresh process opens, walks and catalogs the same image
// several times in a row and prints each run. The first run is what the CLI pays; the last is the same code warm.
// Runs the engine's build (`npm run build`) through its exports. As a harness suite it has no timed cases; it prints its own lines.
// Alone: node bench/suites/10-image-warm.mjs measure SPEC [RUNS]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureImage, MEDIUM } from './10-image-fixtures.mjs';

export const name = 'image-warm';

const HERE = fileURLToPath(import.meta.url);

async function measure(spec, runs) {
  const started = performance.now();
  const { openTarget } = await import('@lading/engine/image');
  const { selectorFor, CATALOGERS, runCatalogers, DEFAULT_LIMITS } = await import('@lading/engine/catalog');
  console.log(`${spec}: modules loaded in ${(performance.now() - started).toFixed(0)} ms`);
  for (let run = 1; run <= runs; run++) {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const opened = await openTarget(spec, {});
    const walked = await opened.walk(selectorFor(CATALOGERS), { maxFileBytes: DEFAULT_LIMITS.maxFileBytes });
    const t1 = performance.now();
    const inventory = await runCatalogers(walked.files, CATALOGERS, DEFAULT_LIMITS);
    const t2 = performance.now();
    await opened.close();
    const used = process.cpuUsage(cpu);
    console.log(
      `  run ${run}: open + walk ${(t1 - t0).toFixed(0)} ms, catalog ${(t2 - t1).toFixed(0)} ms, ` +
        `${((used.user + used.system) / 1000).toFixed(0)} ms CPU, ${inventory.packages.length} packages`,
    );
  }
}

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  for (const spec of [`docker-archive:${image.dockerArchive}`, `oci:${image.ociDir}`]) {
    const r = spawnSync(process.execPath, [HERE, 'measure', spec, '5'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${spec}: ${r.stderr}`);
    process.stdout.write(r.stdout);
  }
  return { cases: [] };
}

if (process.argv[1] === HERE && process.argv[2] === 'measure') {
  await measure(process.argv[3], Number(process.argv[4] ?? 5));
}
