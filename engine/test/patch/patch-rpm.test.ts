// RPM images get the plan only: packages built with rpmbuild and signed with rpmsign (a gpg key made here), an rpm
// database written by rpm itself, and yum repository metadata (repomd.xml, primary.xml.gz) in the shape createrepo
// writes, served on 127.0.0.1.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isLadingError } from '../../src/errors/index.js';
import { applyPatch, type FixableFinding, planPatch } from '../../src/patch/index.js';
import { imageFromRoot, run, testGpgKey } from '../helpers/apt-repo.js';
import { type FileServer, startFileServer } from '../helpers/http-server.js';
import { suiteCleanup } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = new Date('2026-12-01T00:00:00Z');

interface RpmSpec {
  name: string;
  version: string;
  release: string;
  source: string;
  requires?: string;
  post?: string;
}

async function buildRpm(dir: string, spec: RpmSpec): Promise<string> {
  const top = join(dir, 'top');
  const specFile = join(dir, `${spec.name}-${spec.release}.spec`);
  await mkdir(top, { recursive: true });
  const sub = spec.name === spec.source ? '' : ` -n ${spec.name}`;
  await writeFile(
    specFile,
    [
      // The source package, with the binary as its subpackage: rpm then records the source rpm's own name.
      `Name: ${spec.source}`,
      `Version: ${spec.version}`,
      `Release: ${spec.release}`,
      'Summary: patch test source',
      'License: MIT',
      'BuildArch: x86_64',
      '%description',
      'patch test source',
      ...(sub ? [`%package${sub}`, 'Summary: patch test package'] : []),
      ...(spec.requires ? [`Requires: ${spec.requires}`] : []),
      ...(sub ? [`%description${sub}`, 'patch test package'] : []),
      '%install',
      `mkdir -p %{buildroot}/usr/lib64 && echo ${spec.release} > %{buildroot}/usr/lib64/${spec.name}.so`,
      ...(spec.post ? [`%post${sub}`, spec.post] : []),
      `%files${sub}`,
      `/usr/lib64/${spec.name}.so`,
      '',
    ].join('\n'),
  );
  await run('rpmbuild', [
    '-bb',
    '--define',
    `_topdir ${top}`,
    '--define',
    '__os_install_post %{nil}',
    '--define',
    '_build_id_links none',
    specFile,
  ]);
  return join(top, 'RPMS', 'x86_64', `${spec.name}-${spec.version}-${spec.release}.x86_64.rpm`);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** repomd.xml and primary.xml.gz as createrepo_c writes them (the fields a client reads). */
function repodata(packages: { spec: RpmSpec; file: Buffer; href: string }[]): {
  repomd: Buffer;
  primary: Buffer;
  primaryHref: string;
} {
  const xml = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${packages.length}">`,
    ...packages.map(
      ({ spec, file, href }) => `<package type="rpm">
  <name>${spec.name}</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="${spec.version}" rel="${spec.release}"/>
  <checksum type="sha256" pkgid="YES">${sha256(file)}</checksum>
  <summary>patch test package</summary>
  <size package="${file.length}" installed="10" archive="300"/>
  <location href="${href}"/>
  <format>
    <rpm:license>MIT</rpm:license>
    <rpm:sourcerpm>${spec.source}-${spec.version}-${spec.release}.src.rpm</rpm:sourcerpm>
    <rpm:provides>
      <rpm:entry name="${spec.name}" flags="EQ" epoch="0" ver="${spec.version}" rel="${spec.release}"/>
    </rpm:provides>
    <rpm:requires>${spec.requires ? `\n      <rpm:entry name="${spec.requires.split(' ')[0]}" flags="GE" epoch="0" ver="${spec.requires.split(' ')[2]?.split('-')[0]}" rel="${spec.requires.split(' ')[2]?.split('-')[1]}"/>` : ''}
    </rpm:requires>
  </format>
</package>`,
    ),
    '</metadata>',
    '',
  ].join('\n');
  const primary = gzipSync(Buffer.from(xml));
  const primaryHref = `repodata/${sha256(primary)}-primary.xml.gz`;
  const repomd = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1764979200</revision>
  <data type="primary">
    <checksum type="sha256">${sha256(primary)}</checksum>
    <open-checksum type="sha256">${sha256(Buffer.from(xml))}</open-checksum>
    <location href="${primaryHref}"/>
    <size>${primary.length}</size>
  </data>
</repomd>
`);
  return { repomd, primary, primaryHref };
}

const OLD: RpmSpec[] = [
  { name: 'zlib', version: '1.2.11', release: '40.el9', source: 'zlib' },
  { name: 'openssl-libs', version: '3.0.7', release: '24.el9', source: 'openssl' },
  { name: 'libfoo', version: '1.0', release: '1.el9', source: 'foo' },
  { name: 'libbar', version: '1.0', release: '1.el9', source: 'bar' },
];
const NEW: RpmSpec[] = [
  { name: 'zlib', version: '1.2.11', release: '41.el9', source: 'zlib' },
  { name: 'openssl-libs', version: '3.0.7', release: '25.el9', source: 'openssl', post: '/sbin/ldconfig' },
  { name: 'libbar', version: '1.0', release: '2.el9', source: 'bar', requires: 'libbaz >= 2.0-1.el9' },
];
const FINDINGS: FixableFinding[] = [
  { id: 'CVE-2018-25032', package: 'zlib', version: '1.2.11-40.el9', fixedVersions: ['1.2.11-41.el9'] },
  {
    id: 'CVE-2023-5363',
    package: 'openssl-libs',
    version: '3.0.7-24.el9',
    fixedVersions: ['1:3.0.7-25.el9', '3.0.7-25.el9'],
  },
  { id: 'CVE-2023-0003', package: 'libfoo', version: '1.0-1.el9', fixedVersions: ['1.0-2.el9'] },
  { id: 'CVE-2023-0004', package: 'libbar', version: '1.0-1.el9', fixedVersions: ['1.0-2.el9'] },
];

describe('lading patch on RPM images (plan only)', () => {
  const cleanup = suiteCleanup();
  let dir = '';
  let server: FileServer;
  let image = '';
  let served: Record<string, { body: Buffer }> = {};

  before(async () => {
    dir = await tempDir(cleanup);
    const key = await testGpgKey(join(dir, 'key'), 'rsa3072');
    const env = { ...process.env, GNUPGHOME: key.home };
    const newPackages = [];
    for (const spec of NEW) {
      const file = await buildRpm(join(dir, 'new'), spec);
      const { stdout } = await run('gpg', ['--with-colons', '--list-keys'], { env });
      const uid = /^uid:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:([^:]+):/m.exec(stdout)?.[1] as string;
      await run(
        'rpmsign',
        [
          '--define',
          `_gpg_name ${uid}`,
          '--define',
          `_gpg_path ${key.home}`,
          '--define',
          '__gpg /usr/bin/gpg',
          '--define',
          "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''",
          '--addsign',
          file,
        ],
        { env },
      );
      newPackages.push({
        spec,
        file: await readFile(file),
        href: `Packages/${spec.name}-${spec.version}-${spec.release}.x86_64.rpm`,
      });
    }
    const { repomd, primary, primaryHref } = repodata(newPackages);
    served = { '/el9/baseos/repodata/repomd.xml': { body: repomd }, [`/el9/baseos/${primaryHref}`]: { body: primary } };
    for (const p of newPackages) served[`/el9/baseos/${p.href}`] = { body: p.file };
    server = await startFileServer(cleanup, served);

    const root = join(dir, 'root');
    await run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '--initdb']);
    for (const spec of OLD) {
      const file = await buildRpm(join(dir, 'old'), spec);
      await run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-i', '--nodeps', '--noscripts', file]);
    }
    await mkdir(join(root, 'etc/yum.repos.d'), { recursive: true });
    await mkdir(join(root, 'etc/pki/rpm-gpg'), { recursive: true });
    await writeFile(join(root, 'etc/os-release'), 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="9.3"\n');
    await writeFile(join(root, 'etc/pki/rpm-gpg/RPM-GPG-KEY-test'), key.keyring);
    await writeFile(
      join(root, 'etc/yum.repos.d/test.repo'),
      `[baseos]\nname=test $releasever\nbaseurl=${server.url}/el$releasever/baseos\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-test\n`,
    );
    image = (await imageFromRoot(dir, root)).spec;
  });

  it('plans from the signed packages, and refuses to apply', async () => {
    const plan = await planPatch(image, { findings: FINDINGS, now: NOW });
    assert.equal(plan.distro, 'rpm');
    assert.deepEqual(plan.repositories, [`${server.url}/el9/baseos (baseos)`]);
    assert.deepEqual(
      plan.entries.map((e) => [e.source, e.verdict, e.candidateVersion ?? '-']),
      [
        ['bar', 'unsatisfied-deps', '1.0-2.el9'],
        ['foo', 'candidate-not-found', '-'],
        ['openssl', 'needs-scripts', '3.0.7-25.el9'],
        ['zlib', 'apply', '1.2.11-41.el9'],
      ],
    );
    assert.deepEqual(plan.entries[0]?.unsatisfied, ['libbaz GE 2.0-1.el9']);
    assert.deepEqual(plan.entries[2]?.scripts, ['openssl-libs: %post']);
    await assert.rejects(
      applyPatch(image, { findings: FINDINGS, now: NOW, outDir: join(dir, 'out') }),
      /rpm images get the plan only/,
    );
  });

  it('refuses a package whose header signature does not verify, or whose hash is not the one primary lists', async () => {
    const path = '/el9/baseos/Packages/zlib-1.2.11-41.el9.x86_64.rpm';
    const original = served[path]?.body as Buffer;
    const stranger = await testGpgKey(join(dir, 'stranger'));
    await assert.rejects(planPatch(image, { findings: FINDINGS, now: NOW, keyrings: [stranger.keyring] }), (err) => {
      assert.ok(isLadingError(err) && err.code === 'DIGEST_MISMATCH', String(err));
      assert.match(err.message, /\.el9\.x86_64\.rpm header: no signature by a key in the trusted keyrings/);
      return true;
    });
    server.set(path, {
      body: Buffer.concat([original.subarray(0, -1), Buffer.from([(original.at(-1) as number) ^ 1])]),
    });
    try {
      await assert.rejects(
        planPatch(image, { findings: FINDINGS, now: NOW }),
        /SHA-256 differs from the one primary\.xml lists/,
      );
    } finally {
      server.set(path, { body: original });
    }
  });
});
