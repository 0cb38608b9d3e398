import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS } from '../../src/catalog/cataloger.js';
import { apkCataloger } from '../../src/catalog/os/apk/cataloger.js';
import { dpkgCataloger } from '../../src/catalog/os/dpkg/cataloger.js';
import { rpmCataloger } from '../../src/catalog/os/rpm/cataloger.js';
import { dropOwnedByOs } from '../../src/catalog/ownership.js';
import type { PackageFound, PackageType } from '../../src/model/package.js';
import { tempDir } from '../helpers/tmp.js';
import { wantedFiles, wantedFromDir } from '../helpers/wanted-files.js';
import { buildDemoDatabase } from './os/rpm-oracle.js';

const BOOKWORM = fileURLToPath(new URL('../fixtures/catalog/os/dpkg/bookworm/', import.meta.url));
const env = { limits: DEFAULT_LIMITS };

function lang(name: string, type: PackageType, path: string): PackageFound {
  return {
    name,
    version: '1.0',
    type,
    purl: `pkg:${type}/${name}@1.0`,
    licenses: [],
    locations: [{ path }],
    foundBy: type,
  };
}

function kept(packages: PackageFound[]): string[] {
  return dropOwnedByOs(packages)
    .filter((p) => p.type !== 'deb' && p.type !== 'apk' && p.type !== 'rpm')
    .map((p) => p.name)
    .sort();
}

describe('ownership de-duplication with real OS file lists', () => {
  it('dpkg .list files (directories included): drops the Debian-packaged Python metadata only', async () => {
    const debs = (await dpkgCataloger.catalog(await wantedFromDir(BOOKWORM, dpkgCataloger), env)).packages;
    const site = '/usr/lib/python3/dist-packages';
    const packages = [
      ...debs,
      lang('cryptography', 'pypi', `${site}/cryptography-38.0.4.dist-info/METADATA`),
      lang('crcmod', 'pypi', `${site}/crcmod-1.7.egg-info/PKG-INFO`),
      lang('crcmod-dir', 'pypi', `${site}/crcmod-1.7.egg-info`),
      // pip-installed next to Debian's: the directory is shared, the package is not Debian's.
      lang('requests', 'pypi', `${site}/requests-2.31.0.dist-info/METADATA`),
      lang('toplevel', 'pypi', `${site}/stray.py`),
    ];
    assert.deepEqual(kept(packages), ['requests', 'toplevel']);
  });

  it('dpkg lists with unmerged /lib own the merged /usr/lib spelling too', async () => {
    const debs = (await dpkgCataloger.catalog(await wantedFromDir(BOOKWORM, dpkgCataloger), env)).packages;
    assert.ok(debs.some((p) => p.ownedFiles?.includes('/lib/x86_64-linux-gnu/libc.so.6')));
    const packages = [...debs, lang('libc-as-npm', 'npm', '/usr/lib/x86_64-linux-gnu/libc.so.6')];
    assert.deepEqual(kept(packages), []);
  });

  it('apk F:/R: pairs: owned files and jar-in-archive locations', async () => {
    const db = [
      'P:py3-six',
      'V:1.16.0-r9',
      'F:usr/lib/python3.11/site-packages/six-1.16.0.dist-info',
      'R:METADATA',
      'R:RECORD',
      '',
      'P:openjdk-libs',
      'V:17.0.9-r0',
      'F:usr/share/java',
      'R:log4j-api.jar',
      '',
    ].join('\n');
    const apks = (await apkCataloger.catalog(wantedFiles({ '/lib/apk/db/installed': db }), env)).packages;
    const packages = [
      ...apks,
      lang('six', 'pypi', '/usr/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA'),
      lang('log4j-api', 'maven', '/usr/share/java/log4j-api.jar'),
      lang('shaded', 'maven', '/usr/share/java/log4j-api.jar!/META-INF/lib/inner.jar'),
      // Copied by the user into a directory an OS package lists: not owned.
      lang('custom', 'maven', '/usr/share/java/custom.jar'),
    ];
    assert.deepEqual(kept(packages), ['custom']);
  });

  it('rpm BASENAMES+DIRNAMES from a database rpm wrote', async (t) => {
    const scratch = await tempDir(t);
    const db = readFileSync(buildDemoDatabase(scratch));
    const rpms = (await rpmCataloger.catalog(wantedFiles({ '/var/lib/rpm/rpmdb.sqlite': db }), env)).packages;
    const packages = [
      ...rpms,
      lang('lading-demo', 'pypi', '/usr/lib/python3/site-packages/lading_demo-1.2.dist-info/METADATA'),
      lang('other', 'pypi', join('/usr/lib/python3/site-packages', 'other-1.0.dist-info/METADATA')),
    ];
    assert.deepEqual(kept(packages), ['other']);
  });

  it('keeps everything when no OS package lists files, and never drops OS packages', () => {
    const packages = [lang('a', 'npm', '/app/node_modules/a/package.json')];
    assert.deepEqual(dropOwnedByOs(packages), packages);
    const deb: PackageFound = { ...lang('x', 'deb', '/var/lib/dpkg/status'), ownedFiles: ['/var/lib/dpkg/status'] };
    assert.deepEqual(dropOwnedByOs([deb]), [deb]);
  });
});
