import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS } from '../../src/catalog/cataloger.js';
import { javaArchiveCataloger } from '../../src/catalog/lang/java/cataloger.js';
import { apkCataloger } from '../../src/catalog/os/apk/cataloger.js';
import { dpkgCataloger } from '../../src/catalog/os/dpkg/cataloger.js';
import { rpmCataloger } from '../../src/catalog/os/rpm/cataloger.js';
import { dropOwnedByOs } from '../../src/catalog/ownership.js';
import { runCatalogers } from '../../src/catalog/run.js';
import type { PackageFound, PackageType } from '../../src/model/package.js';
import { tempDir } from '../helpers/tmp.js';
import { wantedFiles, wantedFromDir } from '../helpers/wanted-files.js';
import { buildDemoDatabase } from './os/rpm-oracle.js';

const BOOKWORM = fileURLToPath(new URL('../fixtures/catalog/os/dpkg/bookworm/', import.meta.url));
const LOG4J = fileURLToPath(new URL('../fixtures/catalog/os/dpkg/liblog4j2-java/', import.meta.url));
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

  it("Debian's liblog4j2-java jars are the deb only; the same jar copied elsewhere is a Maven package", async () => {
    const jul = readFileSync(join(LOG4J, 'log4j-jul.jar'));
    const files = wantedFiles({
      '/var/lib/dpkg/status': readFileSync(join(LOG4J, 'status')),
      '/var/lib/dpkg/info/liblog4j2-java.list': readFileSync(join(LOG4J, 'liblog4j2-java.list')),
      '/usr/share/java/log4j-jul.jar': jul,
      '/usr/share/java/log4j-jcl.jar': readFileSync(join(LOG4J, 'log4j-jcl.jar')),
      // A symlink in the list whose target the walk stored under the link's name.
      '/usr/share/maven-repo/org/apache/logging/log4j/log4j-jcl/2.19.0/log4j-jcl-2.19.0.jar': readFileSync(
        join(LOG4J, 'log4j-jcl.jar'),
      ),
      // Not in the list: copied by the application, in the shared directory and elsewhere.
      '/usr/share/java/app-log4j-jul.jar': jul,
      '/opt/app/lib/log4j-jul-2.19.0.jar': jul,
    });
    const { packages, warnings } = await runCatalogers(files, [dpkgCataloger, javaArchiveCataloger]);
    assert.deepEqual(warnings, []);
    const maven = packages.filter((p) => p.type === 'maven');
    assert.deepEqual(
      maven.map((p) => `${p.purl} ${p.locations[0]?.path}`),
      [
        'pkg:maven/org.apache.logging.log4j/log4j-jul@2.19.0 /opt/app/lib/log4j-jul-2.19.0.jar',
        'pkg:maven/org.apache.logging.log4j/log4j-jul@2.19.0 /usr/share/java/app-log4j-jul.jar',
      ],
    );
    const deb = packages.find((p) => p.type === 'deb');
    assert.equal(deb?.name, 'liblog4j2-java');
    assert.deepEqual(deb?.source, { name: 'apache-log4j2' });
    // Without the list the very same jars are reported: the list, not the directory, decides.
    const withoutList = new Map(files);
    withoutList.delete('/var/lib/dpkg/info/liblog4j2-java.list');
    const all = await runCatalogers(withoutList, [dpkgCataloger, javaArchiveCataloger]);
    assert.equal(all.packages.filter((p) => p.type === 'maven').length, 5);
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
