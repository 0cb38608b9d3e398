// `lading patch` as a user runs it: findings from a scan against real OSV records (lading db import), a signed apt
// repository on 127.0.0.1, --plan as table and JSON, --apply into an OCI layout, and a re-scan of the result.
import assert from 'node:assert/strict';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  type AptRepo,
  aptRepo,
  buildDeb,
  type DebSpec,
  imageFromRoot,
  installedRoot,
} from '../../engine/test/helpers/apt-repo.js';
import { type CliResult, runCli } from '../../engine/test/helpers/cli.js';
import { ENGINE_ROOT } from '../../engine/test/helpers/paths.js';
import { suiteCleanup } from '../../engine/test/helpers/registry.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

const OLD = '3.0.11-1~deb12u1';
const NEW = '3.0.11-1~deb12u2';

const oldSpecs: DebSpec[] = [
  {
    name: 'libssl3',
    version: OLD,
    source: 'openssl',
    multiArch: 'same',
    files: { 'usr/lib/x86_64-linux-gnu/libssl.so.3': 'old\n' },
  },
  { name: 'openssl', version: OLD, files: { 'usr/bin/openssl': 'old\n' } },
];
const newSpecs: DebSpec[] = [
  {
    name: 'libssl3',
    version: NEW,
    source: 'openssl',
    multiArch: 'same',
    files: { 'usr/lib/x86_64-linux-gnu/libssl.so.3': 'new\n' },
  },
  { name: 'openssl', version: NEW, depends: `libssl3 (>= ${NEW})`, files: { 'usr/bin/openssl': 'new\n' } },
];

/** Runs `lading ARGS`, failing with both streams when the exit code is not the expected one. */
async function lading(args: string[], expectedCode = 0): Promise<CliResult> {
  const r = await runCli(args);
  assert.equal(r.code, expectedCode, `lading ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('lading patch', () => {
  const cleanup = suiteCleanup();
  let dir = '';
  let dbDir = '';
  let repo: AptRepo;
  let target = '';

  before(async () => {
    dir = await tempDir(cleanup);
    dbDir = join(dir, 'db');
    await lading([
      'db',
      'import',
      join(ENGINE_ROOT, 'test', 'fixtures', 'vulndb', 'osv'),
      '--db-dir',
      dbDir,
      '--quiet',
    ]);
    const old: string[] = [];
    for (const s of oldSpecs) old.push(await buildDeb(join(dir, 'old'), s));
    const fresh: string[] = [];
    for (const s of newSpecs) fresh.push(await buildDeb(join(dir, 'new'), s));
    repo = await aptRepo(cleanup, dir, fresh);
    const root = await installedRoot(join(dir, 'image'), old, {
      'etc/os-release': 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
      'etc/apt/sources.list': `deb [signed-by=/etc/apt/keyrings/test.gpg] ${repo.url} bookworm-security main\n`,
    });
    await mkdir(join(root, 'etc/apt/keyrings'), { recursive: true });
    await writeFile(join(root, 'etc/apt/keyrings/test.gpg'), repo.keyring);
    target = (await imageFromRoot(join(dir, 'image'), root)).spec;
  });

  it('--plan prints a table and JSON with the verdict per source package', async () => {
    const table = await lading(['patch', target, '--plan', '--db-dir', dbDir]);
    const lines = table.stdout.split('\n');
    assert.match(lines[0] ?? '', /\(debian; http:\/\/127\.0\.0\.1:\d+\/debian bookworm-security\)$/);
    assert.match(lines[1] ?? '', /^SOURCE\s+FIXED\s+CANDIDATE\s+VERDICT\s+INVOLVES\s+FINDINGS$/);
    assert.match(lines[2] ?? '', new RegExp(`^openssl\\s+${NEW}\\s+${NEW}\\s+apply\\s+-\\s+CVE-2023-5363$`));
    assert.equal(lines[3], `  libssl3 ${OLD} → ${NEW}`);
    const json = await lading(['patch', target, '--plan', '-o', 'json', '--db-dir', dbDir]);
    const plan = JSON.parse(json.stdout);
    assert.equal(plan.entries.length, 1);
    assert.equal(plan.entries[0].verdict, 'apply');
    assert.deepEqual(
      plan.entries[0].binaries.map((b: { name: string }) => b.name),
      ['libssl3', 'openssl'],
    );
  });

  it('--apply writes the patched image, and a re-scan no longer reports the fixed CVE', async () => {
    const before = await lading(['scan', target, '--db-dir', dbDir, '-o', 'json'], 0);
    assert.ok(JSON.parse(before.stdout).findings.some((f: { id: string }) => f.id === 'CVE-2023-5363'));
    const out = join(dir, 'patched');
    const r = await lading(['patch', target, '--apply', '-o', `oci:${out}:fixed`, '--db-dir', dbDir, '--json']);
    const result = JSON.parse(r.stdout);
    assert.deepEqual(
      result.resolvedDependencies.map((d: { uri: string }) => d.uri.replace(repo.url, 'REPO')),
      [`REPO/pool/main/libssl3_${NEW}_amd64.deb`, `REPO/pool/main/openssl_${NEW}_amd64.deb`],
    );
    assert.match(result.resolvedDependencies[0].digest.sha256, /^[0-9a-f]{64}$/);
    assert.match(
      r.stderr,
      new RegExp(
        `patched .* into oci:${out}:fixed: sha256:[0-9a-f]{64}\\n  libssl3 ${OLD} → ${NEW}\\n  openssl ${OLD} → ${NEW}\\n`,
      ),
    );
    const after = await lading(['scan', `oci:${out}:fixed`, '--db-dir', dbDir, '-o', 'json'], 0);
    const report = JSON.parse(after.stdout);
    assert.deepEqual(
      report.findings.filter((f: { id: string }) => f.id === 'CVE-2023-5363'),
      [],
    );
    assert.ok(
      report.packages.some((p: { name: string; version: string }) => p.name === 'libssl3' && p.version === NEW),
    );
  });

  it('exits 3 and writes nothing when the repository signature does not verify', async () => {
    const path = '/debian/dists/bookworm-security/InRelease';
    const original = repo.files.get(path) as Buffer;
    repo.server.set(path, {
      body: Buffer.from(original.toString().replace('Suite: bookworm-security', 'Suite: evil')),
    });
    try {
      const out = join(dir, 'not-written');
      const r = await lading(['patch', target, '--apply', '-o', `oci:${out}`, '--db-dir', dbDir], 3);
      assert.match(r.stderr, /^lading: .*InRelease: the signature does not verify/m);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      await assert.rejects(access(out));
    } finally {
      repo.server.set(path, { body: original });
    }
  });

  it('asks for one of --plan and --apply, and an OCI output for --apply (exit 2)', async () => {
    const r = await lading(['patch', target, '--db-dir', dbDir], 2);
    assert.match(r.stderr, /give one of --plan or --apply/);
    const r2 = await lading(['patch', target, '--apply', '--db-dir', dbDir], 2);
    assert.match(r2.stderr, /--apply needs -o oci:DIR\[:TAG\]/);
  });
});
