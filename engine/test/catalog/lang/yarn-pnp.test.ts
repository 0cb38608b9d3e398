import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { npmCataloger } from '../../../src/catalog/lang/npm/cataloger.js';
import { pnpStateText, pnpVersion } from '../../../src/catalog/lang/npm/pnp-state.js';
import { yarnPnpCataloger } from '../../../src/catalog/lang/npm/yarn-pnp.js';
import { runCatalogers } from '../../../src/catalog/run.js';
import type { WantedFile } from '../../../src/image/file.js';
import { ENGINE_ROOT } from '../../helpers/paths.js';
import { wantedFiles, wantedFromDir } from '../../helpers/wanted-files.js';

const ROOT = join(ENGINE_ROOT, 'test/fixtures/catalog/lang/yarn-pnp');
const env = { limits: DEFAULT_LIMITS };
const LAYER_A = `sha256:${'a'.repeat(64)}`;
const LAYER_B = `sha256:${'b'.repeat(64)}`;

/** The oracle: every package Yarn resolved, from the install's own yarn.lock (workspaces left out). */
function lockedPackages(lockfile: string): string[] {
  const doc = parse(readFileSync(lockfile, 'utf8')) as Record<string, { version?: string; resolution?: string }>;
  const out = new Set<string>();
  for (const [key, entry] of Object.entries(doc)) {
    if (key === '__metadata' || entry.resolution?.includes('@workspace:')) continue;
    const name = entry.resolution?.replace(/^(@?[^@]+)@.*$/, '$1');
    out.add(`${name}@${entry.version}`);
  }
  return [...out].sort();
}

/** A project as the walk would keep it under `root`: the fixture's files plus its cache zips (content unread). */
async function project(fixture: string, root: string, zips: Record<string, string>): Promise<Map<string, WantedFile>> {
  const files = new Map<string, WantedFile>();
  for (const cataloger of [npmCataloger, yarnPnpCataloger]) {
    for (const [path, file] of await wantedFromDir(join(ROOT, fixture), cataloger)) {
      files.set(`${root}${path}`, { ...file, path: `${root}${path}`, layer: LAYER_A });
    }
  }
  for (const [path, layer] of Object.entries(zips)) {
    const meta = { size: 1000, mode: 0o644, type: 'file' as const };
    assert.ok(yarnPnpCataloger.wants(path, meta), path);
    const content = yarnPnpCataloger.condense?.(path, Buffer.from('PK\u0003\u0004')) ?? Buffer.alloc(0);
    files.set(path, { path, layer, meta, content, condensedBy: 'yarn-pnp' });
  }
  return files;
}

describe("Yarn Plug'n'Play", () => {
  it('lists what yarn.lock resolved, from a real .pnp.cjs, zips attributed to their layers', async () => {
    const zips: Record<string, string> = {};
    for (const name of readFileSync(join(ROOT, 'zero-install/cache-files.txt'), 'utf8').split('\n')) {
      if (name) zips[`/app/.yarn/cache/${name}`] = name.startsWith('ms-npm-2.1.2') ? LAYER_B : LAYER_A;
    }
    const files = await project('zero-install', '/app', zips);
    const { packages, warnings } = await runCatalogers(files, [npmCataloger, yarnPnpCataloger]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => `${p.name}@${p.version}`).sort(),
      lockedPackages(join(ROOT, 'zero-install/yarn.lock')),
    );
    const find = (name: string, version: string) => packages.find((p) => p.name === name && p.version === version);
    // Unplugged: a real folder, reported once, by the npm cataloger.
    assert.equal(find('ms', '2.1.3')?.foundBy, 'npm');
    assert.equal(packages.filter((p) => p.name === 'ms' && p.version === '2.1.3').length, 1);
    const old = find('ms', '2.1.2');
    assert.deepEqual(old?.locations, [
      { path: '/app/.yarn/cache/ms-npm-2.1.2-ec0c1512ff-a437714e2f.zip!/node_modules/ms/package.json', layer: LAYER_B },
    ]);
    const scoped = find('@isaacs/string-locale-compare', '1.1.0');
    assert.equal(scoped?.purl, 'pkg:npm/%40isaacs/string-locale-compare@1.1.0');
    const resolve = find('resolve', '1.22.8');
    assert.match(resolve?.locations[0]?.path ?? '', /resolve-patch-[^/]+\.zip!\/node_modules\/resolve\/package\.json$/);
    assert.deepEqual(resolve?.dependsOn, ['is-core-module', 'path-parse', 'supports-preserve-symlinks-flag']);
    assert.deepEqual(find('debug', '4.3.4')?.dependsOn, undefined, 'virtual instances are not reported');
    assert.equal(packages.filter((p) => p.name === 'debug').length, 1);
  });

  it('reads .pnp.data.json (state not inlined) with packages in the global cache outside the project', async () => {
    const files = await project('global-cache', '/srv/proj2', {});
    const { packages, warnings } = await runCatalogers(files, [npmCataloger, yarnPnpCataloger]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => `${p.name}@${p.version}`).sort(),
      lockedPackages(join(ROOT, 'global-cache/yarn.lock')),
    );
    for (const p of packages.filter((p) => p.foundBy === 'yarn-pnp')) {
      assert.match(p.locations[0]?.path ?? '', /^\/srv\/home\/\.yarn\/berry\/cache\/[^/]+\.zip!\/node_modules\//);
      assert.equal(p.locations[0]?.layer, LAYER_A, 'the PnP file layer when the zip was not seen');
    }
  });

  it('takes versions from npm and patch references only', () => {
    assert.equal(pnpVersion('npm:4.17.21'), '4.17.21');
    assert.equal(
      pnpVersion('patch:resolve@npm%3A1.22.8#optional!builtin<compat/resolve>::version=1.22.8&hash=9bd1a5'),
      '1.22.8',
    );
    assert.equal(pnpVersion('workspace:.'), undefined);
    assert.equal(pnpVersion('https://example.com/x.tgz'), undefined);
    assert.equal(pnpVersion('patch:x@npm%3A1#p::version=%E0%A4%A&hash=1'), undefined);
  });

  it('decodes the inlined literal exactly as JavaScript does', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (value) => {
        const literal = JSON.stringify(value).slice(1, -1).replace(/'/g, "\\'").replace(/\\"/g, '"');
        const file = Buffer.from(`const RAW_RUNTIME_STATE =\n'${literal.replace(/,/g, ',\\\n')}';\n`);
        assert.equal(pnpStateText(file, false), value);
      }),
      { numRuns: 300 },
    );
  });

  it('turns truncated, garbage and stateless PnP files into one-line warnings', async () => {
    const real = readFileSync(join(ROOT, 'zero-install/.pnp.cjs'));
    const cuts = [0, 10, 40, 200, 1000, real.length - 10, real.length - 3];
    const bad = [
      ...cuts.map((n) => real.subarray(0, n)),
      Buffer.from("const RAW_RUNTIME_STATE = '{\\u12'"),
      Buffer.from('const RAW_RUNTIME_STATE = 42;'),
      Buffer.from('const RAW_RUNTIME_STATE = \'{"packageRegistryData": 3}\';'),
      Buffer.from("const RAW_RUNTIME_STATE = '[[[[';"),
      readFileSync(join(ROOT, 'global-cache/.pnp.cjs')),
    ];
    for (const content of bad) {
      const { packages, warnings } = await yarnPnpCataloger.catalog(wantedFiles({ '/app/.pnp.cjs': content }), env);
      assert.deepEqual(packages, []);
      assert.equal(warnings.length, 1, content.toString('utf8', 0, 60));
      assert.equal(warnings[0]?.path, '/app/.pnp.cjs');
      assert.doesNotMatch(warnings[0]?.message ?? '', /\n/);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const content = Buffer.concat([Buffer.from("const RAW_RUNTIME_STATE = '"), Buffer.from(bytes)]);
        const condensed = yarnPnpCataloger.condense?.('/x/.pnp.cjs', content);
        assert.ok(condensed);
      }),
      { numRuns: 200 },
    );
  });
});
