import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { npmCataloger } from '../../../src/catalog/lang/npm/cataloger.js';
import { ENGINE_ROOT } from '../../helpers/paths.js';
import { wantedFiles, wantedFromDir } from '../../helpers/wanted-files.js';

const ROOT = join(ENGINE_ROOT, 'test/fixtures/catalog/lang/npm');
const env = { limits: DEFAULT_LIMITS };

describe('npm', () => {
  it('catalogs real package.json files (scoped, nested) and fills gaps from the hidden lockfile', async () => {
    const files = await wantedFromDir(ROOT, npmCataloger);
    const { packages, warnings } = await npmCataloger.catalog(files, env);
    assert.deepEqual(warnings, []);
    const real = async (rel: string) =>
      JSON.parse(await readFile(join(ROOT, 'app/node_modules', rel, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
    const byPath = new Map(packages.map((p) => [`${p.locations[0]?.path}#${p.name}`, p]));
    for (const rel of ['commander', 'semver', 'yauzl', 'deep-extend', '@types/node', 'tar-fs', '@biomejs/biome']) {
      const doc = await real(rel);
      const pkg = byPath.get(`/app/node_modules/${rel}/package.json#${doc.name}`);
      assert.equal(pkg?.version, doc.version, rel);
    }
    const nested = byPath.get('/app/node_modules/tar-fs/node_modules/tar-stream/package.json#tar-stream');
    assert.ok(nested);
    const types = packages.find((p) => p.name === '@types/node');
    assert.match(types?.purl ?? '', /^pkg:npm\/%40types\/node@20\./);
    assert.deepEqual(types?.licenses, ['MIT']);
    assert.deepEqual(packages.find((p) => p.name === 'deep-extend')?.licenses, ['MIT']);
    const yauzl = (await real('yauzl')) as unknown as { dependencies: Record<string, string> };
    assert.deepEqual(packages.find((p) => p.name === 'yauzl')?.dependsOn, Object.keys(yauzl.dependencies));
    // From the lockfile only: pend (no package.json copied) and the workspace package behind a link.
    const lockOnly = packages.filter((p) => p.locations[0]?.path.endsWith('.package-lock.json'));
    assert.deepEqual(lockOnly.map((p) => `${p.purl} ${p.metadata?.['npm.workspace'] ?? ''}`).sort(), [
      'pkg:npm/%40acme/util@0.3.0 true',
      `pkg:npm/pend@${(JSON.parse(await readFile(join(ROOT, 'app/node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> }).packages['node_modules/pend']?.version} `,
    ]);
    assert.equal(packages.length, 10);
    // The lockfile's integrity and dev flag reach the packages found through their package.json.
    const biome = packages.find((p) => p.name === '@biomejs/biome');
    assert.equal(biome?.metadata?.['npm.dev'], 'true');
    assert.equal(biome?.hashes?.[0]?.alg, 'SHA-512');
    assert.match(biome?.hashes?.[0]?.content ?? '', /^[0-9a-f]{128}$/);
    assert.equal(
      packages.filter((p) => p.name === 'semver').length,
      1,
      'lock entries with a package.json are not repeated',
    );
  });

  it('wants only package roots in node_modules', () => {
    const meta = { size: 10, mode: 0o644, type: 'file' as const };
    const yes = [
      '/a/node_modules/x/package.json',
      '/node_modules/@s/x/package.json',
      '/a/node_modules/.pnpm/x@1/node_modules/x/package.json',
    ];
    const no = [
      '/a/package.json',
      '/a/node_modules/x/lib/package.json',
      '/a/node_modules/.bin/package.json',
      '/a/node_modules/@s/package.json',
      '/a/node_modules/x/test/fixtures/package.json',
    ];
    for (const p of yes) assert.equal(npmCataloger.wants(p, meta), true, p);
    for (const p of no) assert.equal(npmCataloger.wants(p, meta), false, p);
  });

  it('condenses away README and friends', () => {
    const big = JSON.stringify({ name: 'x', version: '1.0.0', readme: 'r'.repeat(100_000), license: 'MIT' });
    const kept = npmCataloger.condense?.('/node_modules/x/package.json', Buffer.from(big));
    assert.ok(kept && kept.length < 100);
  });

  it('warns on malformed JSON, wrong types, missing fields and invalid lockfiles', async () => {
    const files = wantedFiles({
      '/n/node_modules/a/package.json': '{"name": "a", "version": ',
      '/n/node_modules/b/package.json': '[1,2]',
      '/n/node_modules/c/package.json': '{"name": "c"}',
      '/n/node_modules/d/package.json': '{"name": {"x":1}, "version": 5, "license": 7, "licenses": "MIT"}',
      '/n/node_modules/.package-lock.json': '{"lockfileVersion": 1, "dependencies": {}}',
    });
    const { packages, warnings } = await npmCataloger.catalog(files, env);
    assert.deepEqual(packages, []);
    assert.equal(warnings.length, 5);
    for (const w of warnings) assert.equal(w.cataloger, 'npm');
  });

  it('never throws on arbitrary JSON values (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (doc, lock) => {
        const files = wantedFiles({
          '/node_modules/x/package.json': JSON.stringify(doc),
          '/node_modules/.package-lock.json': JSON.stringify({ lockfileVersion: 3, packages: lock }),
        });
        const { packages } = await npmCataloger.catalog(files, env);
        for (const p of packages) assert.match(p.purl, /^pkg:npm\//);
      }),
      { numRuns: 200 },
    );
  });
});
