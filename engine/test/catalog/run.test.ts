import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Cataloger } from '../../src/catalog/cataloger.js';
import { osCatalogers } from '../../src/catalog/os/index.js';
import { runCatalogers } from '../../src/catalog/run.js';
import { wantedFiles, wantedFromDir } from '../helpers/wanted-files.js';

const BOOKWORM = new URL('../fixtures/catalog/os/dpkg/bookworm/', import.meta.url);
const APK = new URL('../fixtures/catalog/os/apk/syft-multiple-2-installed', import.meta.url);

/** All files any OS cataloger wants from a folder, as the walk would hand them over. */
async function filesFor(root: string) {
  const merged = new Map();
  for (const cataloger of osCatalogers) for (const [k, v] of await wantedFromDir(root, cataloger)) merged.set(k, v);
  return merged;
}

describe('runCatalogers with the OS catalogers', () => {
  it('runs os-release first and hands its OsInfo to dpkg (purl distro), with stable ids and order', async () => {
    const files = await filesFor(decodeURIComponent(BOOKWORM.pathname));
    const withRelease = new Map(files);
    for (const [k, v] of wantedFiles({ '/etc/os-release': readFileSync('/etc/os-release') })) withRelease.set(k, v);
    const inventory = await runCatalogers(withRelease, osCatalogers);
    assert.equal(inventory.os?.ecosystem, 'Debian:12');
    assert.deepEqual(inventory.warnings, []);
    assert.equal(inventory.packages.length, 14);
    assert.ok(inventory.packages.every((p) => p.purl.includes('distro=debian-12')));
    assert.ok(
      inventory.packages.every((p) => !('ownedFiles' in p)),
      'owned files are not reported',
    );
    const names = inventory.packages.map((p) => p.name);
    assert.deepEqual(names, [...names].sort());
    const again = await runCatalogers(withRelease, osCatalogers);
    assert.deepEqual(
      again.packages.map((p) => p.id),
      inventory.packages.map((p) => p.id),
    );
    assert.equal(new Set(inventory.packages.map((p) => p.id)).size, 14);
  });

  it('without any release file there is no OS and apk purls carry no distro', async () => {
    const inventory = await runCatalogers(wantedFiles({ '/lib/apk/db/installed': readFileSync(APK) }), osCatalogers);
    assert.equal(inventory.os, undefined);
    assert.equal(inventory.packages.length, 14);
    assert.ok(inventory.packages.every((p) => p.purl.startsWith('pkg:apk/alpine/') && !p.purl.includes('distro=')));
  });

  it('turns a throwing cataloger into a warning and keeps the others', async () => {
    const broken: Cataloger = {
      id: 'broken',
      version: 1,
      wants: () => true,
      catalog: async () => {
        throw new Error('boom');
      },
    };
    const inventory = await runCatalogers(wantedFiles({ '/lib/apk/db/installed': readFileSync(APK) }), [
      ...osCatalogers,
      broken,
    ]);
    assert.equal(inventory.packages.length, 14);
    assert.deepEqual(inventory.warnings, [{ cataloger: 'broken', message: 'cataloger failed: boom' }]);
  });
});
