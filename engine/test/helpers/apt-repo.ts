// Real Debian packaging for the patch tests: packages built with dpkg-deb, installed into a root with dpkg, a
// repository indexed with dpkg-scanpackages and apt-ftparchive and signed with gpg --clearsign by a key made for
// the test, served on 127.0.0.1; images assembled from the root with umoci.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { type FileServer, type ServedFile, startFileServer } from './http-server.js';

export const run = promisify(execFile);

export interface DebSpec {
  name: string;
  version: string;
  source?: string;
  architecture?: string;
  multiArch?: string;
  depends?: string;
  /** Paths without the leading slash → content. */
  files: Record<string, string>;
  conffiles?: string[];
  scripts?: Record<string, string>;
  triggers?: string;
  /** Extra members of data.tar added after dpkg-deb built it (hostile packages): name → content. */
}

/** Builds `name_version_arch.deb` in `dir` with dpkg-deb and returns its path. */
export async function buildDeb(dir: string, spec: DebSpec): Promise<string> {
  const arch = spec.architecture ?? 'amd64';
  const root = join(dir, `build-${spec.name}-${spec.version}`);
  await mkdir(join(root, 'DEBIAN'), { recursive: true });
  const control = [
    `Package: ${spec.name}`,
    ...(spec.source ? [`Source: ${spec.source}`] : []),
    `Version: ${spec.version}`,
    `Architecture: ${arch}`,
    ...(spec.multiArch ? [`Multi-Arch: ${spec.multiArch}`] : []),
    'Maintainer: Lading Tests <tests@lading.invalid>',
    ...(spec.depends ? [`Depends: ${spec.depends}`] : []),
    'Section: libs',
    'Priority: optional',
    `Description: ${spec.name} for the patch tests`,
    ' Built by the test with dpkg-deb.',
  ];
  await writeFile(join(root, 'DEBIAN', 'control'), `${control.join('\n')}\n`);
  const sums: string[] = [];
  for (const [path, content] of Object.entries(spec.files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
    if (!(spec.conffiles ?? []).includes(`/${path}`)) {
      const { createHash } = await import('node:crypto');
      sums.push(`${createHash('md5').update(content).digest('hex')}  ${path}`);
    }
  }
  if (sums.length > 0) await writeFile(join(root, 'DEBIAN', 'md5sums'), `${sums.sort().join('\n')}\n`);
  if (spec.conffiles) await writeFile(join(root, 'DEBIAN', 'conffiles'), `${spec.conffiles.join('\n')}\n`);
  if (spec.triggers) await writeFile(join(root, 'DEBIAN', 'triggers'), `${spec.triggers}\n`);
  for (const [script, body] of Object.entries(spec.scripts ?? {})) {
    await writeFile(join(root, 'DEBIAN', script), body);
    await chmod(join(root, 'DEBIAN', script), 0o755);
  }
  const out = join(dir, `${spec.name}_${spec.version.replace(/^\d+:/, '')}_${arch}.deb`);
  await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, out]);
  return out;
}

/** A root with a dpkg database, usrmerge links (`lib` → `usr/lib`), and the given packages installed by dpkg. */
export async function installedRoot(dir: string, debs: string[], files: Record<string, string> = {}): Promise<string> {
  const root = join(dir, 'root');
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'usr/lib', 'usr/bin', 'etc/apt/sources.list.d']) {
    await mkdir(join(root, d), { recursive: true });
  }
  await writeFile(join(root, 'var/lib/dpkg/status'), '');
  await symlink('usr/lib', join(root, 'lib'));
  await symlink('usr/bin', join(root, 'bin'));
  await run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--install', ...debs]);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** An OCI layout `dir/layout:1` with `root` as its one layer, a config umoci sets. */
export async function imageFromRoot(dir: string, root: string): Promise<{ layout: string; spec: string }> {
  const layout = join(dir, 'layout');
  await run('umoci', ['init', '--layout', layout]);
  await run('umoci', ['new', '--image', `${layout}:1`]);
  await run('umoci', ['insert', '--image', `${layout}:1`, root, '/']);
  await run('umoci', [
    'config',
    '--image',
    `${layout}:1`,
    '--config.user',
    '1000',
    '--config.env',
    'APP_MODE=patched',
    '--config.workingdir',
    '/srv',
    '--config.cmd',
    '/usr/bin/openssl',
    '--config.label',
    'org.example.team=supply-chain',
  ]);
  return { layout, spec: `oci:${layout}:1` };
}

export interface AptRepo {
  server: FileServer;
  /** `http://127.0.0.1:PORT/debian` */
  url: string;
  /** The signing key, exported (binary keyring). */
  keyring: Buffer;
  /** Every file of the repository as served (path → bytes), to serve altered copies. */
  files: Map<string, Buffer>;
  gnupgHome: string;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await stat(path)).isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out;
}

/** Makes an OpenPGP signing key in a fresh GNUPGHOME (gpg --quick-gen-key) and returns the home and public keyring. */
export async function testGpgKey(dir: string, algo = 'rsa3072'): Promise<{ home: string; keyring: Buffer }> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  await run(
    'gpg',
    [
      '--batch',
      '--passphrase',
      '',
      '--quick-gen-key',
      'Lading Test Archive <archive@lading.invalid>',
      algo,
      'sign',
      'never',
    ],
    { env },
  );
  const { stdout } = await run('gpg', ['--export'], { env, encoding: 'buffer' });
  return { home, keyring: stdout as unknown as Buffer };
}

/** A signed apt repository with the given packages in `suite` main, served on 127.0.0.1 under `/debian`. */
export async function aptRepo(
  t: Pick<TestContext, 'after'>,
  dir: string,
  debs: string[],
  suite = 'bookworm-security',
): Promise<AptRepo> {
  const repo = join(dir, 'repo');
  const pool = join(repo, 'pool', 'main');
  await mkdir(pool, { recursive: true });
  for (const deb of debs) await writeFile(join(pool, deb.split('/').pop() as string), await readFile(deb));
  const binary = join(repo, 'dists', suite, 'main', 'binary-amd64');
  await mkdir(binary, { recursive: true });
  const { stdout: packages } = await run('dpkg-scanpackages', ['--multiversion', 'pool', '/dev/null'], { cwd: repo });
  await writeFile(join(binary, 'Packages'), packages);
  await run('gzip', ['-9nk', join(binary, 'Packages')]);
  const { stdout: release } = await run(
    'apt-ftparchive',
    [
      '-o',
      `APT::FTPArchive::Release::Suite=${suite}`,
      '-o',
      'APT::FTPArchive::Release::Origin=Lading Tests',
      '-o',
      'APT::FTPArchive::Release::Components=main',
      '-o',
      'APT::FTPArchive::Release::Architectures=amd64',
      'release',
      '.',
    ],
    { cwd: join(repo, 'dists', suite) },
  );
  await writeFile(join(repo, 'dists', suite, 'Release'), release);
  const key = await testGpgKey(dir);
  const env = { ...process.env, GNUPGHOME: key.home };
  await run(
    'gpg',
    [
      '--batch',
      '--yes',
      '--clearsign',
      '-o',
      join(repo, 'dists', suite, 'InRelease'),
      join(repo, 'dists', suite, 'Release'),
    ],
    { env },
  );
  // The older form apt falls back to: Release with an armored detached signature beside it.
  await run(
    'gpg',
    [
      '--batch',
      '--yes',
      '--armor',
      '--detach-sign',
      '-o',
      join(repo, 'dists', suite, 'Release.gpg'),
      join(repo, 'dists', suite, 'Release'),
    ],
    { env },
  );
  const files = new Map<string, Buffer>();
  const served: Record<string, ServedFile> = {};
  for (const file of await listFiles(repo)) {
    const path = `/debian/${relative(repo, file)}`;
    const body = await readFile(file);
    files.set(path, body);
    served[path] = { body };
  }
  const server = await startFileServer(t, served);
  return { server, url: `${server.url}/debian`, keyring: key.keyring, files, gnupgHome: key.home };
}
