import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ENGINE_ROOT, REPO_ROOT, runCli } from '../../engine/test/helpers/cli.js';
import { buildImage } from '../../engine/test/helpers/images.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

// Users run ./bin/lading, which loads the esbuild bundle in dist/bundle/ (scripts/bundle.mjs), not the modules the
// other tests run through tsx. These tests hold the two to the same output.
const BUNDLE = join(REPO_ROOT, 'cli/dist/bundle/bin.js');
const SMOKE = join(ENGINE_ROOT, 'test/fixtures/smoke');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'cli/package.json'), 'utf8')) as { version: string };

const REPRODUCIBLE = { SOURCE_DATE_EPOCH: '1700000000' };

function newestSource(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestSource(path) : { path, mtimeMs: statSync(path).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

describe('the built CLI (bundle)', () => {
  before(() => {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run build\``);
    const built = statSync(BUNDLE).mtimeMs;
    const newer = [newestSource(join(REPO_ROOT, 'cli/src')), newestSource(join(ENGINE_ROOT, 'src'))].reduce((a, b) =>
      a.mtimeMs >= b.mtimeMs ? a : b,
    );
    assert.ok(newer.mtimeMs <= built, `${newer.path} is newer than the bundle: run \`npm run build\``);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version'], { built: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('writes the same SBOMs as the sources, for an image with gzip layers and a docker-archive', async (t) => {
    const dir = await tempDir(t);
    const status = await readFile(join(SMOKE, 'rootfs/var/lib/dpkg/status'));
    const built = await buildImage(dir, {
      compression: 'gzip',
      layers: [
        [
          { type: 'file', path: '/etc/os-release', content: await readFile(join(SMOKE, 'rootfs/etc/os-release')) },
          { type: 'file', path: '/var/lib/dpkg/status', content: status },
        ],
        [
          {
            type: 'file',
            path: '/app/node_modules/left-pad/package.json',
            content: JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'WTFPL' }),
          },
        ],
      ],
    });
    for (const target of [`oci:${built.ociDir}`, `docker-archive:${built.dockerArchive}`]) {
      for (const format of ['cyclonedx-json', 'spdx-json']) {
        const args = ['sbom', target, '-o', format, '-q'];
        const [fromBundle, fromSource] = await Promise.all([
          runCli(args, { built: true, env: REPRODUCIBLE }),
          runCli(args, { built: false, env: REPRODUCIBLE }),
        ]);
        assert.equal(fromBundle.code, 0, fromBundle.stderr);
        assert.equal(fromSource.code, 0, fromSource.stderr);
        assert.match(fromBundle.stdout, /left-pad/);
        assert.match(fromBundle.stdout, /openssl/);
        assert.equal(fromBundle.stdout, fromSource.stdout, `${format} of ${target}`);
      }
    }
  });

  it('loads the native SQLite addon, the YAML policy and its JSON Schema from the bundle', async (t) => {
    const env = { LADING_DB_DIR: join(await tempDir(t), 'db') };
    const imported = await runCli(['db', 'import', join(SMOKE, 'osv')], { built: true, env });
    assert.equal(imported.code, 0, imported.stderr);
    const rootfs = `dir:${join(SMOKE, 'rootfs')}`;
    const policy = join(REPO_ROOT, 'docs/policy.example.yaml');
    const r = await runCli(['scan', rootfs, '--policy', policy, '-o', 'json', '-q'], { built: true, env });
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const report = JSON.parse(r.stdout) as { findings: { id: string }[]; policy?: unknown };
    assert.ok(report.findings.some((f) => f.id === 'CVE-2023-5363'));
    assert.ok(report.policy, 'the policy verdict is in the report');

    const bad = join(await tempDir(t), 'bad.yaml');
    await import('node:fs/promises').then((fs) => fs.writeFile(bad, 'rules: [{bad: 1}]\n'));
    const refused = await runCli(['scan', rootfs, '--policy', bad], { built: true, env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /bad\.yaml:1:\d+: invalid policy: rules\[0\]\.bad: unknown field/);
  });

  it('--debug and LADING_DEBUG=1 stacks point into the TypeScript sources (source maps through the bundle)', async () => {
    const args = ['sbom', 'docker-archive:/nonexistent/image.tar'];
    for (const r of [
      await runCli([...args, '--debug'], { built: true }),
      await runCli(args, { built: true, env: { LADING_DEBUG: '1' } }),
    ]) {
      assert.equal(r.code, 3);
      assert.match(r.stderr, /\(.*src\/[\w/-]+\.ts:\d+:\d+\)/);
      assert.doesNotMatch(r.stderr, /dist\/bundle\/[\w-]+\.js:\d+/);
    }
  });
});
