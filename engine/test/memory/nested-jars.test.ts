// A 42.zip-style Java archive (16 jars in each jar, five levels down: a million archives in 25 KB) read in a child
// process, whose peak RSS is asserted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));
const ZIP_WRITER = fileURLToPath(new URL('../catalog/lang/zip-writer.ts', import.meta.url));

const CHILD = `
const { DEFAULT_LIMITS } = await import(process.env.CATALOGER);
const { scanJavaArchive } = await import(process.env.ARCHIVE);
const { buildZip } = await import(process.env.ZIP_WRITER);
let jar = buildZip([{ name: 'META-INF/maven/org.example/leaf/pom.properties', data: 'groupId=org.example\\nartifactId=leaf\\nversion=1\\n' }]);
for (let level = 0; level < 5; level++) {
  jar = buildZip(Array.from({ length: 16 }, (_, i) => ({ name: \`lib/l\${level}-\${i}.jar\`, data: jar })));
}
const scan = scanJavaArchive(jar, 'bomb.jar', DEFAULT_LIMITS);
console.log(JSON.stringify({
  bytes: jar.length,
  packages: scan.packages.length,
  first: scan.problems[0]?.message,
  maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
}));
`;

describe('nested archive bombs', () => {
  test('a million nested jars in 25 KB: 10,000 read, under 300 MiB RSS, the cap named', async (t) => {
    const dir = await tempDir(t);
    const script = join(dir, 'child.mjs');
    await writeFile(script, CHILD);
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      env: {
        ...process.env,
        CATALOGER: src('catalog/cataloger.ts'),
        ARCHIVE: src('catalog/lang/java/archive.ts'),
        ZIP_WRITER,
      },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout.trim()) as { bytes: number; packages: number; first: string; maxRssMiB: number };
    assert.ok(out.bytes < 64 * 1024, `${out.bytes} bytes`);
    assert.equal(out.packages, 10_000);
    assert.match(out.first, /more than 10000 nested archives/);
    assert.ok(out.maxRssMiB < 300, `peak RSS ${out.maxRssMiB} MiB`);
    t.diagnostic(`peak RSS ${out.maxRssMiB} MiB`);
  });
});
