// `planPatch` / `applyPatch` on Debian images against a real signed apt repository: packages built with dpkg-deb,
// installed with dpkg, indexed with dpkg-scanpackages and apt-ftparchive, signed with gpg; the result checked with
// umoci, dpkg --verify and dpkg-query, tools Lading did not write.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isLadingError } from '../../src/errors/index.js';
import { applyPatch, type FixableFinding, planPatch } from '../../src/patch/index.js';
import {
  type AptRepo,
  aptRepo,
  buildDeb,
  type DebSpec,
  imageFromRoot,
  installedRoot,
  run,
  testGpgKey,
} from '../helpers/apt-repo.js';
import { skopeoCopy, startRegistry, suiteCleanup } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = new Date('2026-12-01T00:00:00Z');
const OLD = '3.0.11-1~deb12u1';
const NEW = '3.0.11-1~deb12u2';
const LIBDIR = 'usr/lib/x86_64-linux-gnu';

const installedSpecs: DebSpec[] = [
  {
    name: 'libssl3',
    version: OLD,
    source: 'openssl',
    multiArch: 'same',
    triggers: 'activate-noawait ldconfig',
    files: {
      [`${LIBDIR}/libssl.so.3`]: 'libssl old\n',
      [`${LIBDIR}/ossl-modules/legacy.so`]: 'legacy module, dropped in the fix\n',
      'lib/x86_64-linux-gnu/libcompat.so.1': 'compat old\n',
      'etc/ssl/legacy.cnf': 'a conffile the fix no longer ships\n',
    },
    conffiles: ['/etc/ssl/legacy.cnf'],
  },
  {
    name: 'openssl',
    version: OLD,
    depends: `libssl3 (>= ${OLD})`,
    files: { 'usr/bin/openssl': 'openssl old\n', 'etc/ssl/openssl.cnf': 'cnf v1\n' },
    conffiles: ['/etc/ssl/openssl.cnf'],
  },
  {
    name: 'libc6',
    version: '2.36-9+deb12u3',
    source: 'glibc',
    multiArch: 'same',
    files: { [`${LIBDIR}/libc.so.6`]: 'libc\n' },
  },
  {
    name: 'zlib1g',
    version: '1:1.2.13.dfsg-1',
    source: 'zlib',
    multiArch: 'same',
    files: { [`${LIBDIR}/libz.so.1`]: 'z old\n' },
  },
  { name: 'e2fsprogs', version: '1.47.0-2', files: { 'usr/sbin/mke2fs': 'mke2fs old\n' } },
  { name: 'libfoo', version: '1.0', source: 'foo', files: { [`${LIBDIR}/libfoo.so`]: 'foo\n' } },
];

const repoSpecs: DebSpec[] = [
  {
    name: 'libssl3',
    version: NEW,
    source: 'openssl',
    multiArch: 'same',
    depends: 'libc6 (>= 2.34)',
    triggers: 'activate-noawait ldconfig',
    files: {
      [`${LIBDIR}/libssl.so.3`]: 'libssl new\n',
      // moved from /lib to /usr/lib, as packages did for usrmerge: the same file through the image's /lib link
      [`${LIBDIR}/libcompat.so.1`]: 'compat new\n',
      [`${LIBDIR}/engines-3/afalg.so`]: 'afalg, new in the fix\n',
    },
  },
  {
    name: 'openssl',
    version: NEW,
    depends: `libssl3 (>= ${NEW})`,
    files: { 'usr/bin/openssl': 'openssl new\n', 'etc/ssl/openssl.cnf': 'cnf v2\n' },
    conffiles: ['/etc/ssl/openssl.cnf'],
  },
  {
    name: 'zlib1g',
    version: '1:1.2.13.dfsg-1+deb12u1',
    source: 'zlib',
    multiArch: 'same',
    files: { [`${LIBDIR}/libz.so.1`]: 'z new\n' },
    scripts: { postinst: '#!/bin/sh\nldconfig\n' },
  },
  {
    name: 'e2fsprogs',
    version: '1.47.0-2+deb12u1',
    depends: 'libext2fs2 (>= 1.47.0-2+deb12u1)',
    files: { 'usr/sbin/mke2fs': 'mke2fs new\n' },
  },
];

const FINDINGS: FixableFinding[] = [
  { id: 'CVE-2023-5363', package: 'libssl3', version: OLD, fixedVersions: [NEW] },
  { id: 'CVE-2023-5363', package: 'openssl', version: OLD, fixedVersions: [NEW] },
  { id: 'CVE-2023-0001', package: 'zlib1g', version: '1:1.2.13.dfsg-1', fixedVersions: ['1:1.2.13.dfsg-1+deb12u1'] },
  { id: 'CVE-2023-0002', package: 'e2fsprogs', version: '1.47.0-2', fixedVersions: ['1.47.0-2+deb12u1'] },
  { id: 'CVE-2023-0003', package: 'libfoo', version: '1.0', fixedVersions: ['1.1'] },
  // fixed in exactly the installed version: nothing to do
  { id: 'CVE-2023-4911', package: 'libc6', version: '2.36-9+deb12u3', fixedVersions: ['2.36-9+deb12u3'] },
];

function sourcesFile(url: string): string {
  return `Types: deb\nURIs: ${url}\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/lading-test.gpg\n`;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function code(err: unknown): string | undefined {
  return isLadingError(err) ? err.code : undefined;
}

describe('lading patch on Debian images', () => {
  const cleanup = suiteCleanup();
  let dir = '';
  let repo: AptRepo;
  let image = '';
  let installed: string[] = [];

  /** An image of the installed packages, configured for the repository, with extra files. */
  async function makeImage(name: string, extra: Record<string, string> = {}): Promise<string> {
    const d = join(dir, name);
    const root = await installedRoot(d, installed, {
      'etc/apt/sources.list.d/lading-test.sources': sourcesFile(repo.url),
      ...extra,
    });
    await writeFile(join(root, 'usr/share/keyrings/lading-test.gpg'), repo.keyring).catch(async () => {
      await run('mkdir', ['-p', join(root, 'usr/share/keyrings')]);
      await writeFile(join(root, 'usr/share/keyrings/lading-test.gpg'), repo.keyring);
    });
    return (await imageFromRoot(d, root)).spec;
  }

  before(async () => {
    dir = await tempDir(cleanup);
    installed = [];
    for (const spec of installedSpecs) installed.push(await buildDeb(join(dir, 'old'), spec));
    const fresh: string[] = [];
    for (const spec of repoSpecs) fresh.push(await buildDeb(join(dir, 'new'), spec));
    repo = await aptRepo(cleanup, dir, fresh);
    image = await makeImage('image');
  });

  it('plans each vulnerable source package with a verdict, from the verified repository', async () => {
    const plan = await planPatch(image, { findings: FINDINGS, now: NOW });
    assert.equal(plan.distro, 'debian');
    assert.deepEqual(plan.repositories, [`${repo.url} bookworm-security`]);
    const bySource = new Map(plan.entries.map((e) => [e.source, e]));
    assert.deepEqual([...bySource.keys()], ['e2fsprogs', 'foo', 'openssl', 'zlib']);

    const openssl = bySource.get('openssl');
    assert.equal(openssl?.verdict, 'apply');
    assert.equal(openssl?.candidateVersion, NEW);
    assert.deepEqual(openssl?.findings, ['CVE-2023-5363']);
    assert.deepEqual(
      openssl?.binaries.map((b) => [b.name, b.installed, b.candidate]),
      [
        ['libssl3', OLD, NEW],
        ['openssl', OLD, NEW],
      ],
    );
    assert.deepEqual(openssl?.conffiles, ['/etc/ssl/openssl.cnf']);
    assert.deepEqual(openssl?.triggers, ['libssl3: activate-noawait ldconfig']);
    assert.deepEqual(openssl?.scripts, []);
    const deb = repo.files.get(`/debian/pool/main/libssl3_${NEW}_amd64.deb`) as Buffer;
    assert.equal(openssl?.binaries[0]?.sha256, createHash('sha256').update(deb).digest('hex'));

    assert.equal(bySource.get('zlib')?.verdict, 'needs-scripts');
    assert.deepEqual(bySource.get('zlib')?.scripts, ['zlib1g: postinst']);
    assert.equal(bySource.get('e2fsprogs')?.verdict, 'unsatisfied-deps');
    assert.deepEqual(bySource.get('e2fsprogs')?.unsatisfied, ['libext2fs2 (>= 1.47.0-2+deb12u1)']);
    assert.equal(bySource.get('foo')?.verdict, 'candidate-not-found');
    assert.match(bySource.get('foo')?.reason ?? '', /no version ≥ 1\.1 of libfoo/);
  });

  it('applies what needs no scripts as one layer that dpkg itself verifies', async () => {
    const out = join(dir, 'out');
    const result = await applyPatch(image, { findings: FINDINGS, now: NOW, outDir: out, tag: 'patched' });
    assert.deepEqual(
      result.patched.map((p) => `${p.name} ${p.from} ${p.to}`),
      [`libssl3 ${OLD} ${NEW}`, `openssl ${OLD} ${NEW}`],
    );
    assert.deepEqual(
      result.resolvedDependencies.map((d) => d.uri),
      [`${repo.url}/pool/main/libssl3_${NEW}_amd64.deb`, `${repo.url}/pool/main/openssl_${NEW}_amd64.deb`],
    );
    const blob = async (digest: string) => readFile(join(out, 'blobs', 'sha256', digest.slice(7)));
    const manifest = JSON.parse((await blob(result.manifestDigest)).toString());
    assert.equal(manifest.layers.length, 2, 'the original layer and exactly one more');
    const packages = JSON.parse(manifest.annotations['dev.lading.patch.packages']);
    assert.deepEqual(
      packages.map((p: { name: string; to: string }) => `${p.name}=${p.to}`),
      [`libssl3=${NEW}`, `openssl=${NEW}`],
    );
    assert.match(manifest.annotations['dev.lading.patch.base-digest'], /^sha256:[0-9a-f]{64}$/);
    const config = JSON.parse((await blob(result.configDigest)).toString());
    assert.equal(config.rootfs.diff_ids.length, 2);
    assert.equal(config.rootfs.diff_ids[1], result.layer.diffId);
    assert.equal(config.history.at(-1).created_by, 'lading patch');
    assert.equal(config.config.User, '1000');

    const bundle = join(dir, 'bundle');
    await run('umoci', ['unpack', '--image', `${out}:patched`, bundle]);
    const root = join(bundle, 'rootfs');
    const verify = await run('dpkg', [`--root=${root}`, '--verify']);
    assert.equal(verify.stdout, '', 'dpkg --verify finds every file as the database says');
    const query = await run('dpkg-query', [
      `--admindir=${root}/var/lib/dpkg`,
      '-W',
      '-f',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      '${Package} ${Version} ${Status}\n',
    ]);
    assert.deepEqual(query.stdout.trim().split('\n').sort(), [
      'e2fsprogs 1.47.0-2 install ok installed',
      'libc6 2.36-9+deb12u3 install ok installed',
      'libfoo 1.0 install ok installed',
      `libssl3 ${NEW} install ok installed`,
      `openssl ${NEW} install ok installed`,
      'zlib1g 1:1.2.13.dfsg-1 install ok installed',
    ]);
    assert.equal(await readFile(join(root, LIBDIR, 'libssl.so.3'), 'utf8'), 'libssl new\n');
    // /lib stays usrmerge's symlink; the file that moved from /lib to /usr/lib is the new one, not whited out
    assert.equal(await readlink(join(root, 'lib')), 'usr/lib');
    assert.equal(await readFile(join(root, 'lib/x86_64-linux-gnu/libcompat.so.1'), 'utf8'), 'compat new\n');
    assert.equal(await exists(join(root, LIBDIR, 'ossl-modules/legacy.so')), false, 'whited out');
    assert.equal(await readFile(join(root, LIBDIR, 'engines-3/afalg.so'), 'utf8'), 'afalg, new in the fix\n');
    assert.equal(await readFile(join(root, 'etc/ssl/openssl.cnf'), 'utf8'), 'cnf v2\n', 'unmodified conffile updated');
    assert.equal(await exists(join(root, 'etc/ssl/openssl.cnf.dpkg-dist')), false);
    // a conffile the new version dropped stays, recorded obsolete, as dpkg leaves it
    assert.equal(await readFile(join(root, 'etc/ssl/legacy.cnf'), 'utf8'), 'a conffile the fix no longer ships\n');
    const status = await readFile(join(root, 'var/lib/dpkg/status'), 'utf8');
    assert.match(status, /\nConffiles:\n \/etc\/ssl\/legacy\.cnf [0-9a-f]{32} obsolete\n/);
    assert.equal(await readFile(join(root, 'usr/lib/x86_64-linux-gnu/libz.so.1'), 'utf8'), 'z old\n');
    const list = await readFile(join(root, 'var/lib/dpkg/info/libssl3:amd64.list'), 'utf8');
    assert.match(list, /^\/\.\n/);
    assert.match(list, /\/usr\/lib\/x86_64-linux-gnu\/engines-3\/afalg\.so\n/);
    assert.doesNotMatch(list, /legacy/);
  });

  it('keeps a conffile the image changed and writes the new one beside it as .dpkg-dist', async () => {
    const changed = await makeImage('changed-conffile', { 'etc/ssl/openssl.cnf': 'cnf edited by the admin\n' });
    const out = join(dir, 'out-conffile');
    const result = await applyPatch(changed, { findings: FINDINGS, now: NOW, outDir: out, tag: 'p' });
    assert.deepEqual(result.keptConffiles, ['/etc/ssl/openssl.cnf']);
    const bundle = join(dir, 'bundle-conffile');
    await run('umoci', ['unpack', '--image', `${out}:p`, bundle]);
    const root = join(bundle, 'rootfs');
    assert.equal(await readFile(join(root, 'etc/ssl/openssl.cnf'), 'utf8'), 'cnf edited by the admin\n');
    assert.equal(await readFile(join(root, 'etc/ssl/openssl.cnf.dpkg-dist'), 'utf8'), 'cnf v2\n');
    // As after dpkg --force-confold: the database records the distributed version, so --verify names the edit only.
    const verify = await run('dpkg', [`--root=${root}`, '--verify']).catch((err) => err);
    assert.match(verify.stdout, /^\?\?5\?{6} c \/etc\/ssl\/openssl\.cnf\n$/);
  });

  it('refuses, writing nothing, when InRelease, Packages or the .deb do not match what signs or lists them', async () => {
    const inRelease = '/debian/dists/bookworm-security/InRelease';
    const packagesGz = '/debian/dists/bookworm-security/main/binary-amd64/Packages.gz';
    const debPath = `/debian/pool/main/libssl3_${NEW}_amd64.deb`;
    const original = (path: string) => repo.files.get(path) as Buffer;
    const cases: [string, string, Buffer, RegExp][] = [
      [
        'InRelease changed after signing',
        inRelease,
        Buffer.from(original(inRelease).toString('utf8').replace('Origin: Lading Tests', 'Origin: Mallory')),
        /InRelease: the signature does not verify/,
      ],
      [
        'Packages.gz not the one InRelease lists',
        packagesGz,
        gzipSync(Buffer.from('Package: libssl3\nVersion: 9\n')),
        /Packages\.gz: SHA-256 differs from the one InRelease lists/,
      ],
      [
        'a .deb not the one Packages lists',
        debPath,
        Buffer.concat([original(debPath).subarray(0, -1), Buffer.from('x')]),
        /libssl3_3\.0\.11-1~deb12u2_amd64\.deb: SHA-256 differs from the one the Packages index lists/,
      ],
    ];
    for (const [label, path, body, message] of cases) {
      repo.server.set(path, { body });
      const out = join(dir, `out-tampered-${path.length}`);
      try {
        await assert.rejects(applyPatch(image, { findings: FINDINGS, now: NOW, outDir: out }), (err) => {
          assert.equal(code(err), 'DIGEST_MISMATCH', label);
          assert.match((err as Error).message, message);
          return true;
        });
        assert.equal(await exists(out), false, `${label}: nothing written`);
      } finally {
        repo.server.set(path, { body: original(path) });
      }
    }
  });

  it('refuses an InRelease whose Valid-Until has passed, though well signed', async () => {
    const path = '/debian/dists/bookworm-security/InRelease';
    const release = (repo.files.get('/debian/dists/bookworm-security/Release') as Buffer).toString('utf8');
    const stale = join(dir, 'stale-Release');
    await writeFile(stale, release.replace(/^(Date: .*)$/m, '$1\nValid-Until: Sun, 01 Nov 2026 00:00:00 UTC'));
    await run('gpg', ['--batch', '--yes', '--clearsign', '-o', `${stale}.signed`, stale], {
      env: { ...process.env, GNUPGHOME: repo.gnupgHome },
    });
    repo.server.set(path, { body: await readFile(`${stale}.signed`) });
    try {
      await assert.rejects(planPatch(image, { findings: FINDINGS, now: NOW }), (err) => {
        assert.equal(code(err), 'DIGEST_MISMATCH');
        assert.match((err as Error).message, /InRelease expired on Sun, 01 Nov 2026 00:00:00 UTC \(Valid-Until\)/);
        return true;
      });
      // the same document is accepted before that date
      const plan = await planPatch(image, { findings: FINDINGS, now: new Date('2026-10-01T00:00:00Z') });
      assert.equal(plan.entries.length, 4);
    } finally {
      repo.server.set(path, { body: repo.files.get(path) as Buffer });
    }
  });

  it('falls back to Release and Release.gpg where there is no InRelease, and refuses a changed Release', async () => {
    const dists = '/debian/dists/bookworm-security';
    const original = repo.files.get(`${dists}/Release`) as Buffer;
    repo.server.set(`${dists}/InRelease`, undefined);
    try {
      const plan = await planPatch(image, { findings: FINDINGS, now: NOW });
      assert.equal(plan.entries.find((e) => e.source === 'openssl')?.verdict, 'apply');
      repo.server.set(`${dists}/Release`, {
        body: Buffer.from(original.toString().replace('Lading Tests', 'Lading Tests!')),
      });
      await assert.rejects(planPatch(image, { findings: FINDINGS, now: NOW }), (err) => {
        assert.equal(code(err), 'DIGEST_MISMATCH');
        assert.match((err as Error).message, /Release\.gpg: the signature does not verify/);
        return true;
      });
    } finally {
      repo.server.set(`${dists}/InRelease`, { body: repo.files.get(`${dists}/InRelease`) as Buffer });
      repo.server.set(`${dists}/Release`, { body: original });
    }
  });

  it('refuses to update one architecture of a Multi-Arch: same package installed for two', async () => {
    const d = join(dir, 'multiarch');
    const i386 = await buildDeb(join(d, 'debs'), {
      name: 'libssl3',
      version: OLD,
      source: 'openssl',
      multiArch: 'same',
      architecture: 'i386',
      files: { 'usr/lib/i386-linux-gnu/libssl.so.3': 'old i386\n' },
    });
    const root = await installedRoot(d, installed, {
      'etc/apt/sources.list.d/lading-test.sources': sourcesFile(repo.url),
    });
    await run('dpkg', [`--root=${root}`, '--add-architecture', 'i386']);
    await run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--install', i386]);
    await mkdir(join(root, 'usr/share/keyrings'), { recursive: true });
    await writeFile(join(root, 'usr/share/keyrings/lading-test.gpg'), repo.keyring);
    const { spec } = await imageFromRoot(d, root);
    const plan = await planPatch(spec, { findings: FINDINGS, now: NOW });
    const openssl = plan.entries.find((e) => e.source === 'openssl');
    assert.equal(openssl?.verdict, 'unsatisfied-deps');
    assert.deepEqual(openssl?.unsatisfied, [`libssl3:i386 (= ${NEW} or later, with libssl3:amd64)`]);
  });

  it("trusts the image's trusted.gpg.d (through symlinks, skipping files that are no keyring) for sources without Signed-By", async () => {
    const d = join(dir, 'trusted-d');
    const root = await installedRoot(d, installed, {
      'etc/apt/sources.list': `# one-line form\ndeb ${repo.url} bookworm-security main\n`,
      'etc/apt/trusted.gpg.d/broken.gpg': 'not a keyring',
    });
    await mkdir(join(root, 'usr/share/keyrings'), { recursive: true });
    await writeFile(join(root, 'usr/share/keyrings/lading-test.gpg'), repo.keyring);
    await symlink('/usr/share/keyrings/lading-test.gpg', join(root, 'etc/apt/trusted.gpg.d/lading-test.gpg'));
    const { spec } = await imageFromRoot(d, root);
    const plan = await planPatch(spec, { findings: FINDINGS, now: NOW });
    assert.equal(plan.entries.find((e) => e.source === 'openssl')?.verdict, 'apply');
  });

  it('refuses a repository signed by a key other than the trusted ones', async () => {
    const stranger = await testGpgKey(join(dir, 'stranger'));
    await assert.rejects(planPatch(image, { findings: FINDINGS, now: NOW, keyrings: [stranger.keyring] }), (err) => {
      assert.equal(code(err), 'DIGEST_MISMATCH');
      assert.match((err as Error).message, /InRelease: no signature by a key in the trusted keyrings/);
      return true;
    });
  });

  it('patches a distroless image (status.d, no apt sources) from a mirror and keyring the caller names', async () => {
    const d = join(dir, 'distroless');
    const root = await installedRoot(d, installed, {
      'etc/os-release': 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
    });
    // What distroless images hold instead of status and info/: one stanza file and one md5sums file per package.
    const status = await readFile(join(root, 'var/lib/dpkg/status'), 'utf8');
    await mkdir(join(root, 'var/lib/dpkg/status.d'));
    for (const stanza of status.split('\n\n').filter((x) => x.trim() !== '')) {
      const name = /^Package: (.+)$/m.exec(stanza)?.[1] as string;
      const arch = /^Multi-Arch: same$/m.test(stanza) ? ':amd64' : '';
      await writeFile(join(root, 'var/lib/dpkg/status.d', name), `${stanza.replace(/^Status: .*\n/m, '').trim()}\n`);
      const sums = await readFile(join(root, 'var/lib/dpkg/info', `${name}${arch}.md5sums`), 'utf8').catch(() => '');
      if (sums) await writeFile(join(root, 'var/lib/dpkg/status.d', `${name}.md5sums`), sums);
    }
    await rm(join(root, 'var/lib/dpkg/status'));
    await rm(join(root, 'var/lib/dpkg/info'), { recursive: true });
    const { spec } = await imageFromRoot(d, root);

    await assert.rejects(planPatch(spec, { findings: FINDINGS, now: NOW }), /configures no apt sources/);
    const out = join(dir, 'out-distroless');
    const options = { findings: FINDINGS, now: NOW, mirror: repo.url, keyrings: [repo.keyring] };
    const plan = await planPatch(spec, options);
    assert.deepEqual(plan.repositories, [
      `${repo.url} bookworm`,
      `${repo.url} bookworm-updates`,
      `${repo.url} bookworm-security`,
    ]);
    const result = await applyPatch(spec, { ...options, outDir: out, tag: 'p' });
    assert.deepEqual(
      result.patched.map((p) => p.name),
      ['libssl3', 'openssl'],
    );
    const bundle = join(dir, 'bundle-distroless');
    await run('umoci', ['unpack', '--image', `${out}:p`, bundle]);
    const patched = join(bundle, 'rootfs');
    const stanza = await readFile(join(patched, 'var/lib/dpkg/status.d/libssl3'), 'utf8');
    assert.ok(stanza.includes(`\nVersion: ${NEW}\n`), stanza);
    assert.doesNotMatch(stanza, /^Status:/m, 'status.d records no Status, and keeps not recording it');
    assert.equal(await exists(join(patched, 'var/lib/dpkg/status')), false);
    // every file the new md5sums names has that md5 in the patched tree
    const sums = await readFile(join(patched, 'var/lib/dpkg/status.d/libssl3.md5sums'), 'utf8');
    const lines = sums.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) {
      const [sum, path] = line.split(/\s+/) as [string, string];
      const content = await readFile(join(patched, path));
      assert.equal(createHash('md5').update(content).digest('hex'), sum, path);
    }
    assert.equal(
      await exists(join(patched, LIBDIR, 'ossl-modules/legacy.so')),
      false,
      'whited out from the old md5sums',
    );
  });

  it('pushes to a registry with skopeo, the config preserved', async () => {
    const out = join(dir, 'out-push');
    await applyPatch(image, { findings: FINDINGS, now: NOW, outDir: out, tag: 'p' });
    const registry = await startRegistry(cleanup);
    await skopeoCopy(`oci:${out}:p`, `docker://${registry.host}/lading/patched:1`);
    const { stdout } = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--config',
      `docker://${registry.host}/lading/patched:1`,
    ]);
    const config = JSON.parse(stdout);
    assert.equal(config.config.User, '1000');
    assert.deepEqual(config.config.Env.includes('APP_MODE=patched'), true);
    assert.equal(config.config.WorkingDir, '/srv');
    assert.deepEqual(config.config.Labels, { 'org.example.team': 'supply-chain' });
    assert.equal(config.rootfs.diff_ids.length, 2);
  });
});
