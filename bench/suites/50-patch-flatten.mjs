// `lading patch --apply` of one package and `lading flatten` of the ~300 MB image, beside what umoci needs to unpack
// and repack the same image (the daemonless way to change an image without Lading). Time (run.mjs) and peak RSS
// (GNU time, one run each, printed first). The patch runs against a signed apt repository built here (dpkg-deb,
// dpkg-scanpackages, apt-ftparchive, gpg) and served by `python3 -m http.server` on 127.0.0.1; the findings come
// from one OSV record imported for the patched source package. Lading runs from its sources (tsx), as the tests do.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BENCH_DIR, ensureImage, MEDIUM } from './10-image-fixtures.mjs';

export const name = 'patch-flatten';

const LADING = [process.execPath, '--conditions=source', '--import', 'tsx', 'cli/src/bin.ts'];

function sh(cmd, args, options = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

function sha256(data) {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The installed stanza of `pkg` in the image's dpkg status (the host's, which the bench image copies). */
function installedVersion(pkg) {
  const status = readFileSync('/var/lib/dpkg/status', 'utf8');
  const stanza = status.split('\n\n').find((s) => s.startsWith(`Package: ${pkg}\n`));
  return /^Version: (.+)$/m.exec(stanza ?? '')?.[1];
}

function peakRss(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]) / 1024;
}

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  const dir = join(BENCH_DIR, 'patch');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pkg = 'zlib1g';
  const installed = installedVersion(pkg);
  if (!installed) throw new Error(`${pkg} is not in /var/lib/dpkg/status`);
  const fixed = `${installed}+lading1`;

  // Every installed binary of the source moves together (lading patch requires it): one fixed package each.
  const binaries = readFileSync('/var/lib/dpkg/status', 'utf8')
    .split('\n\n')
    .filter(
      (s) => /^Status: .* installed$/m.test(s) && (/^Source: zlib( |$)/m.test(s) || s.startsWith(`Package: ${pkg}\n`)),
    )
    .map((s) => /^Package: (.+)$/m.exec(s)?.[1]);
  const repo = join(dir, 'repo');
  mkdirSync(join(repo, 'pool'), { recursive: true });
  mkdirSync(join(repo, 'dists/bookworm-security/main/binary-amd64'), { recursive: true });
  for (const binary of binaries) {
    const build = join(dir, 'build', binary);
    mkdirSync(join(build, 'DEBIAN'), { recursive: true });
    mkdirSync(join(build, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
    writeFileSync(join(build, `usr/lib/x86_64-linux-gnu/${binary}.lading`), 'x'.repeat(100_000));
    writeFileSync(
      join(build, 'DEBIAN/control'),
      `Package: ${binary}\nSource: zlib\nVersion: ${fixed}\nArchitecture: amd64\nMulti-Arch: same\nMaintainer: bench <b@lading.invalid>\nDepends: libc6 (>= 2.14)\nDescription: bench\n`,
    );
    sh('dpkg-deb', [
      '--root-owner-group',
      '-Zgzip',
      '--build',
      build,
      join(repo, 'pool', `${binary}_${fixed}_amd64.deb`),
    ]);
  }
  writeFileSync(
    join(repo, 'dists/bookworm-security/main/binary-amd64/Packages'),
    sh('dpkg-scanpackages', ['--multiversion', 'pool', '/dev/null'], { cwd: repo }),
  );
  sh('gzip', ['-9nk', join(repo, 'dists/bookworm-security/main/binary-amd64/Packages')]);
  const dists = join(repo, 'dists/bookworm-security');
  writeFileSync(
    join(dists, 'Release'),
    sh(
      'apt-ftparchive',
      [
        '-o',
        'APT::FTPArchive::Release::Suite=bookworm-security',
        '-o',
        'APT::FTPArchive::Release::Components=main',
        'release',
        '.',
      ],
      { cwd: dists },
    ),
  );
  const gnupg = join(dir, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupg };
  sh(
    'gpg',
    ['--batch', '--passphrase', '', '--quick-gen-key', 'Bench <bench@lading.invalid>', 'rsa3072', 'sign', 'never'],
    { env },
  );
  sh('gpg', ['--batch', '--yes', '--clearsign', '-o', join(dists, 'InRelease'), join(dists, 'Release')], { env });
  const keyring = sh('gpg', ['--export'], { env });
  const port = await freePort();
  const server = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port), '--directory', repo], {
    stdio: 'ignore',
  });
  // A failing setup returns no cleanup: the server must not outlive it.
  try {
    for (
      let i = 0;
      i < 50 && spawnSync('curl', ['-sf', `http://127.0.0.1:${port}/dists/bookworm-security/InRelease`]).status !== 0;
      i++
    ) {
      spawnSync('sleep', ['0.1']);
    }

    // The bench image plus one small layer: the repository's source and key. Tagged `medium` and `bench`.
    const layout = join(dir, 'layout');
    cpSync(image.ociDir, layout, { recursive: true });
    const blob = (d) => join(layout, 'blobs/sha256', d.slice(7));
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const original = index.manifests[0];
    const manifest = JSON.parse(readFileSync(blob(original.digest), 'utf8'));
    const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8'));
    const extra = join(dir, 'extra');
    mkdirSync(join(extra, 'etc/apt/sources.list.d'), { recursive: true });
    mkdirSync(join(extra, 'usr/share/keyrings'), { recursive: true });
    writeFileSync(
      join(extra, 'etc/apt/sources.list.d/bench.sources'),
      `Types: deb\nURIs: http://127.0.0.1:${port}\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/bench.gpg\n`,
    );
    writeFileSync(join(extra, 'usr/share/keyrings/bench.gpg'), keyring);
    const tar = sh('tar', ['-C', extra, '--sort=name', '--format=pax', '-cf', '-', 'etc', 'usr']);
    const gz = gzipSync(tar);
    writeFileSync(blob(sha256(gz)), gz);
    const newConfig = Buffer.from(
      JSON.stringify({ ...config, rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, sha256(tar)] } }),
    );
    writeFileSync(blob(sha256(newConfig)), newConfig);
    const newManifest = Buffer.from(
      JSON.stringify({
        ...manifest,
        config: { ...manifest.config, digest: sha256(newConfig), size: newConfig.length },
        layers: [
          ...manifest.layers,
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gz), size: gz.length },
        ],
      }),
    );
    writeFileSync(blob(sha256(newManifest)), newManifest);
    const ref = (tag) => ({ 'org.opencontainers.image.ref.name': tag });
    index.manifests = [
      { ...original, annotations: ref('medium') },
      {
        mediaType: original.mediaType,
        digest: sha256(newManifest),
        size: newManifest.length,
        annotations: ref('bench'),
      },
    ];
    writeFileSync(join(layout, 'index.json'), JSON.stringify(index));

    // One OSV record: the installed zlib is affected, fixed in the repository's version.
    const osv = join(dir, 'osv');
    mkdirSync(osv);
    writeFileSync(
      join(osv, 'DEBIAN-CVE-2099-0001.json'),
      JSON.stringify({
        schema_version: '1.6.0',
        id: 'DEBIAN-CVE-2099-0001',
        modified: '2026-12-01T00:00:00Z',
        published: '2026-12-01T00:00:00Z',
        upstream: ['CVE-2099-0001'],
        affected: [
          {
            package: { ecosystem: 'Debian:12', name: 'zlib' },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
          },
        ],
      }),
    );
    const db = join(dir, 'db');
    sh(LADING[0], [...LADING.slice(1), 'db', 'import', osv, '--db-dir', db, '--quiet']);

    const out = join(dir, 'out');
    const patchArgs = [
      '-c',
      `rm -rf '${out}-patched' && exec "$@"`,
      'sh',
      ...LADING,
      'patch',
      `oci:${layout}:bench`,
      '--apply',
      '-o',
      `oci:${out}-patched:p`,
      '--db-dir',
      db,
    ];
    const flattenArgs = [
      '-c',
      `rm -rf '${out}-flat' && exec "$@"`,
      'sh',
      ...LADING,
      'flatten',
      `oci:${layout}:medium`,
      '-o',
      `oci:${out}-flat:f`,
    ];
    const bundle = join(dir, 'bundle');
    const umociArgs = [
      '-c',
      `rm -rf '${bundle}' && umoci unpack --image '${layout}:medium' '${bundle}' && umoci repack --image '${layout}:repacked' '${bundle}'`,
    ];
    const versionArgs = [...LADING.slice(1), '--version'];
    console.log(
      `image: ${image.ociDir} + the repository layer (${layout}); patched: ${binaries.join(', ')} ${installed} → ${fixed}`,
    );
    const rss = (args) => peakRss('sh', args).toFixed(0);
    console.log(
      `peak RSS: lading patch --apply ${rss(patchArgs)} MB; lading flatten ${rss(flattenArgs)} MB; ` +
        `umoci unpack + repack ${rss(umociArgs)} MB; lading --version from source ${peakRss(process.execPath, versionArgs).toFixed(0)} MB`,
    );
    if (!existsSync(join(`${out}-patched`, 'index.json'))) throw new Error('the patch wrote no image');
    return {
      cases: [
        { label: 'lading --version (from source: tsx start-up)', cmd: process.execPath, args: versionArgs },
        { label: 'lading patch --apply (one package)', cmd: 'sh', args: patchArgs },
        { label: 'lading flatten (~300 MB, 3 layers)', cmd: 'sh', args: flattenArgs },
        { label: 'umoci unpack + repack (same image)', cmd: 'sh', args: umociArgs },
      ],
      cleanup: async () => {
        server.kill();
      },
    };
  } catch (err) {
    server.kill();
    throw err;
  }
}
