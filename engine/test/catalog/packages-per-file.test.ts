import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Cataloger, DEFAULT_LIMITS } from '../../src/catalog/cataloger.js';
import { npmCataloger } from '../../src/catalog/lang/npm/cataloger.js';
import { osCatalogers } from '../../src/catalog/os/index.js';
import { runCatalogers } from '../../src/catalog/run.js';
import type { PackageFound } from '../../src/model/package.js';
import { wantedFiles } from '../helpers/wanted-files.js';

const CAP = { ...DEFAULT_LIMITS, maxPackagesPerFile: 10 };
const APK_DB = '/lib/apk/db/installed';

function apkDatabase(count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += `P:pkg${i}\nV:1.0.${i}-r0\nA:x86_64\no:pkg${i}\nL:MIT\n\n`;
  return text;
}

function hiddenLockfile(count: number): string {
  const packages: Record<string, unknown> = { '': { name: 'app' } };
  for (let i = 0; i < count; i++) packages[`node_modules/dep${i}`] = { version: `1.0.${i}` };
  return JSON.stringify({ lockfileVersion: 3, packages });
}

describe('the cap on packages per file', () => {
  it('an apk database listing more than the cap yields its first packages and a catalog-incomplete gap', async () => {
    const files = wantedFiles({ [APK_DB]: apkDatabase(50) });
    const inventory = await runCatalogers(files, osCatalogers, CAP);
    const apk = inventory.packages.filter((p) => p.foundBy === 'apk');
    assert.equal(apk.length, 10);
    assert.deepEqual(apk.map((p) => p.name).sort(), Array.from({ length: 10 }, (_, i) => `pkg${i}`).sort());
    assert.deepEqual(inventory.gaps, [
      {
        kind: 'catalog-incomplete',
        scope: 'apk',
        path: APK_DB,
        message: 'more than 10 packages in one file: only the first 10 were read',
      },
    ]);
  });

  it('at the cap exactly, nothing is dropped and there is no gap', async () => {
    const inventory = await runCatalogers(wantedFiles({ [APK_DB]: apkDatabase(10) }), osCatalogers, CAP);
    assert.equal(inventory.packages.length, 10);
    assert.equal(inventory.gaps, undefined);
  });

  it('a dpkg status file over the cap: the first paragraphs and a gap', async () => {
    let status = '';
    for (let i = 0; i < 30; i++) {
      status += `Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-${i}\n\n`;
    }
    const inventory = await runCatalogers(wantedFiles({ '/var/lib/dpkg/status': status }), osCatalogers, CAP);
    assert.equal(inventory.packages.length, 10);
    assert.deepEqual(
      inventory.gaps?.map((g) => [g.scope, g.path]),
      [['dpkg', '/var/lib/dpkg/status']],
    );
  });

  it('a hidden npm lockfile over the cap: the first entries and a gap', async () => {
    const lock = '/app/node_modules/.package-lock.json';
    const inventory = await runCatalogers(wantedFiles({ [lock]: hiddenLockfile(40) }), [npmCataloger], CAP);
    assert.equal(inventory.packages.length, 10);
    assert.equal(inventory.gaps?.length, 1);
    assert.equal(inventory.gaps?.[0]?.path, lock);
    assert.match(inventory.gaps?.[0]?.message ?? '', /more than 10 packages in one file/);
  });

  it('is enforced where results come back, for any cataloger: per file, not per cataloger', async () => {
    const many = (path: string, n: number): PackageFound[] =>
      Array.from({ length: n }, (_, i) => ({
        name: `p${i}`,
        version: '1',
        type: 'npm',
        purl: `pkg:npm/p${i}@1`,
        licenses: [],
        locations: [{ path }],
        foundBy: 'listing',
      }));
    const listing: Cataloger = {
      id: 'listing',
      version: 1,
      wants: (path) => path.endsWith('.list'),
      catalog: async () => ({ packages: [...many('/a.list', 25), ...many('/b.list', 10)], warnings: [] }),
    };
    const files = wantedFiles({ '/a.list': 'x', '/b.list': 'y' });
    const inventory = await runCatalogers(files, [listing], CAP);
    assert.equal(inventory.packages.filter((p) => p.locations[0]?.path === '/a.list').length, 10);
    assert.equal(inventory.packages.filter((p) => p.locations[0]?.path === '/b.list').length, 10);
    assert.deepEqual(
      inventory.gaps?.map((g) => [g.scope, g.path]),
      [['listing', '/a.list']],
    );
  });
});
