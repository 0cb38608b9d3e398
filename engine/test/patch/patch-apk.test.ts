// `applyPatch` on Alpine images: packages, a signed APKINDEX and the installed database made the way abuild and
// apk-tools 2 make them (engine/test/helpers/apk_repo.py: Python's tarfile and gzip, openssl signatures), served on
// 127.0.0.1; the result unpacked by umoci, read by Lading's own apk cataloger and re-scanned against OSV records.
import assert from 'node:assert/strict';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isLadingError } from '../../src/errors/index.js';
import { gzipMembers } from '../../src/patch/apk.js';
import { applyPatch, type FixableFinding, planPatch } from '../../src/patch/index.js';
import { scan } from '../../src/scan/index.js';
import { imageFromRoot, run } from '../helpers/apt-repo.js';
import { runCli } from '../helpers/cli.js';
import { type FileServer, startFileServer } from '../helpers/http-server.js';
import { ENGINE_ROOT } from '../helpers/paths.js';
import { suiteCleanup } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = new Date('2026-12-01T00:00:00Z');
const KEYNAME = 'lading-test-0001.rsa.pub';
const MUSL = 'so:libc.musl-x86_64.so.1';

interface ApkSpec {
  name: string;
  version: string;
  origin: string;
  depends?: string[];
  provides?: string[];
  files: Record<string, string>;
  scripts?: Record<string, string>;
}

const OLD: ApkSpec[] = [
  {
    name: 'musl',
    version: '1.2.4-r2',
    origin: 'musl',
    provides: [`${MUSL}=1`],
    files: { 'lib/ld-musl-x86_64.so.1': 'musl\n' },
  },
  {
    name: 'libcrypto3',
    version: '3.1.3-r0',
    origin: 'openssl',
    depends: [MUSL],
    files: { 'usr/lib/libcrypto.so.3': 'crypto old\n', 'etc/ssl/openssl.cnf': 'cnf v1\n' },
  },
  {
    name: 'libssl3',
    version: '3.1.3-r0',
    origin: 'openssl',
    depends: ['libcrypto3=3.1.3-r0', MUSL],
    files: { 'usr/lib/libssl.so.3': 'ssl old\n', 'usr/lib/engines-3/legacy.so': 'dropped in the fix\n' },
  },
  { name: 'zlib', version: '1.2.13-r1', origin: 'zlib', files: { 'lib/libz.so.1': 'z old\n' } },
];

const NEW: ApkSpec[] = [
  {
    name: 'libcrypto3',
    version: '3.1.4-r0',
    origin: 'openssl',
    depends: [MUSL],
    files: { 'usr/lib/libcrypto.so.3': 'crypto new\n', 'etc/ssl/openssl.cnf': 'cnf v2\n' },
  },
  {
    name: 'libssl3',
    version: '3.1.4-r0',
    origin: 'openssl',
    depends: ['libcrypto3=3.1.4-r0', MUSL],
    files: { 'usr/lib/libssl.so.3': 'ssl new\n' },
  },
  {
    name: 'zlib',
    version: '1.2.13-r2',
    origin: 'zlib',
    files: { 'lib/libz.so.1': 'z new\n' },
    scripts: { '.post-upgrade': '#!/bin/sh\necho upgraded\n' },
  },
];

const FINDINGS: FixableFinding[] = [
  { id: 'CVE-2023-5363', package: 'libssl3', version: '3.1.3-r0', fixedVersions: ['3.1.4-r0'] },
  { id: 'CVE-2023-5363', package: 'libcrypto3', version: '3.1.3-r0', fixedVersions: ['3.1.4-r0'] },
  { id: 'CVE-2023-0001', package: 'zlib', version: '1.2.13-r1', fixedVersions: ['1.2.13-r2'] },
];

async function apkRepo(spec: object): Promise<void> {
  const child = run('python3', [join(ENGINE_ROOT, 'test', 'helpers', 'apk_repo.py')]);
  child.child.stdin?.end(JSON.stringify(spec));
  await child;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('lading patch on Alpine images', () => {
  const cleanup = suiteCleanup();
  let dir = '';
  let server: FileServer;
  let key = '';
  let publicKey: Buffer;
  let repoFiles = new Map<string, Buffer>();

  async function makeImage(name: string, extra: Record<string, string> = {}): Promise<string> {
    const root = join(dir, name, 'root');
    await apkRepo({ key, keyname: KEYNAME, arch: 'x86_64', repo: join(dir, name, 'old-repo'), packages: OLD, root });
    const files: Record<string, string | Buffer> = {
      'etc/os-release': 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\n',
      'etc/apk/repositories': `${server.url}/alpine/v3.18/main\n`,
      'etc/apk/arch': 'x86_64\n',
      [`etc/apk/keys/${KEYNAME}`]: publicKey,
      ...extra,
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), content);
    }
    return (await imageFromRoot(join(dir, name), root)).spec;
  }

  before(async () => {
    dir = await tempDir(cleanup);
    key = join(dir, 'key.pem');
    await run('openssl', ['genrsa', '-out', key, '2048']);
    publicKey = (await run('openssl', ['rsa', '-in', key, '-pubout'], { encoding: 'buffer' }))
      .stdout as unknown as Buffer;
    const repo = join(dir, 'repo');
    await apkRepo({ key, keyname: KEYNAME, arch: 'x86_64', repo, packages: NEW });
    const served: Record<string, { body: Buffer }> = {};
    for (const name of await import('node:fs/promises').then((fs) => fs.readdir(join(repo, 'x86_64')))) {
      const body = await readFile(join(repo, 'x86_64', name));
      const path = `/alpine/v3.18/main/x86_64/${name}`;
      served[path] = { body };
      repoFiles.set(path, body);
    }
    repoFiles = new Map(repoFiles);
    server = await startFileServer(cleanup, served);
  });

  it('plans per origin package, and applies what needs no scripts as one layer apk would leave', async () => {
    const image = await makeImage('image');
    const plan = await planPatch(image, { findings: FINDINGS, now: NOW });
    assert.equal(plan.distro, 'alpine');
    assert.deepEqual(plan.repositories, [`${server.url}/alpine/v3.18/main`]);
    assert.deepEqual(
      plan.entries.map((e) => [e.source, e.verdict, e.candidateVersion]),
      [
        ['openssl', 'apply', '3.1.4-r0'],
        ['zlib', 'needs-scripts', '1.2.13-r2'],
      ],
    );
    assert.deepEqual(plan.entries[1]?.scripts, ['zlib: .post-upgrade']);

    const out = join(dir, 'out');
    const result = await applyPatch(image, { findings: FINDINGS, now: NOW, outDir: out, tag: 'p' });
    assert.deepEqual(
      result.patched.map((p) => `${p.name} ${p.from} ${p.to}`),
      ['libcrypto3 3.1.3-r0 3.1.4-r0', 'libssl3 3.1.3-r0 3.1.4-r0'],
    );
    const bundle = join(dir, 'bundle');
    await run('umoci', ['unpack', '--image', `${out}:p`, bundle]);
    const root = join(bundle, 'rootfs');
    assert.equal(await readFile(join(root, 'usr/lib/libssl.so.3'), 'utf8'), 'ssl new\n');
    assert.equal(await readFile(join(root, 'etc/ssl/openssl.cnf'), 'utf8'), 'cnf v2\n');
    assert.equal(await exists(join(root, 'usr/lib/engines-3/legacy.so')), false, 'whited out');
    assert.equal(await readFile(join(root, 'lib/libz.so.1'), 'utf8'), 'z old\n');

    // Lading's own apk cataloger reads the rewritten database
    const sbom = await scan(`dir:${root}`, {
      sbomOnly: true,
      dbDir: join(dir, 'no-db'),
      now: NOW,
      checks: false,
      secrets: false,
    });
    assert.deepEqual(
      sbom.packages
        .filter((p) => p.type === 'apk')
        .map((p) => `${p.name} ${p.version}`)
        .sort(),
      ['libcrypto3 3.1.4-r0', 'libssl3 3.1.4-r0', 'musl 1.2.4-r2', 'zlib 1.2.13-r1'],
    );
    // every file the new records name has the checksum they give
    const db = await readFile(join(root, 'lib/apk/db/installed'), 'utf8');
    const record = db.split('\n\n').find((b) => b.includes('\nP:libssl3\n')) as string;
    assert.match(record, /^C:Q1.*\nP:libssl3\nV:3\.1\.4-r0\n/);
    assert.match(record, /\nF:usr\/lib\nR:libssl\.so\.3\nZ:Q1[A-Za-z0-9+/]+=(\n|$)/);
    assert.doesNotMatch(record, /legacy/);

    // a re-scan against the OSV records no longer reports CVE-2023-5363
    const dbDir = join(dir, 'db');
    const imported = await runCli([
      'db',
      'import',
      join(ENGINE_ROOT, 'test/fixtures/vulndb/osv'),
      '--db-dir',
      dbDir,
      '--quiet',
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    const beforeReport = await scan(image, { dbDir, now: NOW, checks: false, secrets: false });
    assert.ok(beforeReport.findings.some((f) => f.id === 'CVE-2023-5363'));
    const afterReport = await scan(`oci:${out}:p`, { dbDir, now: NOW, checks: false, secrets: false });
    assert.deepEqual(
      afterReport.findings.filter((f) => f.id === 'CVE-2023-5363'),
      [],
    );
  });

  it('keeps an /etc file the image changed, writing the new one as .apk-new', async () => {
    const image = await makeImage('changed', { 'etc/ssl/openssl.cnf': 'edited\n' });
    const out = join(dir, 'out-changed');
    const result = await applyPatch(image, { findings: FINDINGS, now: NOW, outDir: out, tag: 'p' });
    assert.deepEqual(result.keptConffiles, ['/etc/ssl/openssl.cnf']);
    const bundle = join(dir, 'bundle-changed');
    await run('umoci', ['unpack', '--image', `${out}:p`, bundle]);
    assert.equal(await readFile(join(bundle, 'rootfs/etc/ssl/openssl.cnf'), 'utf8'), 'edited\n');
    assert.equal(await readFile(join(bundle, 'rootfs/etc/ssl/openssl.cnf.apk-new'), 'utf8'), 'cnf v2\n');
  });

  it('refuses, writing nothing, a changed APKINDEX or a package that is not the one it lists', async () => {
    const image = await makeImage('tamper');
    const index = '/alpine/v3.18/main/x86_64/APKINDEX.tar.gz';
    const apk = '/alpine/v3.18/main/x86_64/libssl3-3.1.4-r0.apk';
    const original = (p: string) => repoFiles.get(p) as Buffer;
    // Each stream swapped for another well-formed gzip stream, so only the chain can tell.
    const streams = (p: string) => gzipMembers(original(p), p, 3, 1024 ** 2);
    const [indexSig, indexContent] = streams(index);
    const [apkSig, apkControl, apkData] = streams(apk);
    assert.ok(indexSig && indexContent && apkSig && apkControl && apkData);
    const cases: [string, Buffer, RegExp][] = [
      [
        index,
        Buffer.concat([
          indexSig.raw,
          gzipSync(Buffer.from(indexContent.content.toString('latin1').replace('3.1.4-r0', '3.1.5-r0'), 'latin1')),
        ]),
        /APKINDEX\.tar\.gz: the signature does not verify/,
      ],
      [
        apk,
        Buffer.concat([apkSig.raw, gzipSync(apkControl.content), apkData.raw]),
        /libssl3-3\.1\.4-r0\.apk: control checksum differs from the one APKINDEX lists/,
      ],
      [
        apk,
        Buffer.concat([apkSig.raw, apkControl.raw, gzipSync(apkData.content, { level: 1 })]),
        /libssl3-3\.1\.4-r0\.apk: data differs from the datahash its verified control lists/,
      ],
    ];
    for (const [path, body, message] of cases) {
      server.set(path, { body });
      const out = join(dir, `out-tamper-${message.source.length}`);
      try {
        await assert.rejects(applyPatch(image, { findings: FINDINGS, now: NOW, outDir: out }), (err) => {
          assert.ok(isLadingError(err));
          assert.equal(err.code, 'DIGEST_MISMATCH', err.message);
          assert.match(err.message, message);
          return true;
        });
        assert.equal(await exists(out), false);
      } finally {
        server.set(path, { body: original(path) });
      }
    }
  });
});
