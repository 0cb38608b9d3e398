// An apk database listing 150,000 packages (over the default cap of 100,000 per file) cataloged in a child process,
// whose peak RSS and time are asserted: the first 100,000 are kept and the file is a coverage gap.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

const CHILD = `
const { runCatalogers } = await import(process.env.RUN);
const { osCatalogers } = await import(process.env.OS);
const parts = [];
for (let i = 0; i < 150_000; i++) parts.push(\`P:pkg\${i}\\nV:1.0.\${i}-r0\\nA:x86_64\\no:pkg\${i}\\nL:MIT\\n\\n\`);
const content = Buffer.from(parts.join(''));
const meta = { size: content.length, mode: 0o644, type: 'file' };
const path = '/lib/apk/db/installed';
const files = new Map([[path, { path, meta, content, layer: 'sha256:' + '0'.repeat(64), history: [] }]]);
const started = Date.now();
const inventory = await runCatalogers(files, osCatalogers);
console.log(JSON.stringify({
  bytes: content.length,
  packages: inventory.packages.length,
  gaps: inventory.gaps,
  ms: Date.now() - started,
  maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
}));
`;

describe('packages per file', () => {
  test('150,000 apk records under the default cap: 100,000 kept, a gap, bounded RSS and time', async (t) => {
    const dir = await tempDir(t);
    const script = join(dir, 'child.mjs');
    await writeFile(script, CHILD);
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, RUN: src('catalog/run.ts'), OS: src('catalog/os/index.ts') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout.trim()) as {
      bytes: number;
      packages: number;
      gaps: { kind: string; path: string; message: string }[];
      ms: number;
      maxRssMiB: number;
    };
    assert.equal(out.packages, 100_000);
    assert.deepEqual(
      out.gaps.map((g) => [g.kind, g.path, g.message]),
      [
        [
          'catalog-incomplete',
          '/lib/apk/db/installed',
          'more than 100000 packages in one file: only the first 100000 were read',
        ],
      ],
    );
    assert.ok(out.maxRssMiB < 600, `peak RSS ${out.maxRssMiB} MiB`);
    assert.ok(out.ms < 20_000, `${out.ms} ms`);
    t.diagnostic(`${out.bytes} bytes, ${out.ms} ms, peak RSS ${out.maxRssMiB} MiB`);
  });
});
