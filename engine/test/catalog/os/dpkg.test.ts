import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { dpkgCataloger } from '../../../src/catalog/os/dpkg/cataloger.js';
import { licensesFromCopyright } from '../../../src/catalog/os/dpkg/copyright.js';
import { dependencyNames, isPresent, parseSource } from '../../../src/catalog/os/dpkg/entry.js';
import { parseStanza, readStanzas } from '../../../src/catalog/os/dpkg/status-file.js';
import type { WantedFile, WantedFiles } from '../../../src/image/file.js';
import type { OsInfo } from '../../../src/model/os.js';
import type { PackageFound } from '../../../src/model/package.js';
import { tempDir } from '../../helpers/tmp.js';
import { wantedFiles, wantedFromDir } from '../../helpers/wanted-files.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/catalog/os/dpkg/', import.meta.url));
const BOOKWORM = join(FIXTURES, 'bookworm');
const DEBIAN_12: OsInfo = { family: 'debian', version: '12', ecosystem: 'Debian:12' };

async function catalog(files: WantedFiles, os?: OsInfo) {
  return dpkgCataloger.catalog(files, os ? { os, limits: DEFAULT_LIMITS } : { limits: DEFAULT_LIMITS });
}

/** The oracle: what dpkg itself lists, in the same shape, for packages in the states Lading reports. */
function dpkgQuery(admindir: string): string[] {
  const out = execFileSync(
    'dpkg-query',
    [
      `--admindir=${admindir}`,
      '-W',
      '-f',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      '${db:Status-Status}\t${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}\n',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'))
    .filter(([state]) => isPresent(`install ok ${state}`))
    .map(([, rest]) => rest ?? '')
    .sort();
}

function mine(packages: PackageFound[]): string[] {
  return packages
    .map((p) => `${p.name} ${p.version} ${p.arch ?? ''} ${p.source?.name ?? p.name} ${p.source?.version ?? p.version}`)
    .sort();
}

function extractTxtar(archive: string, root: string): void {
  const parts = readFileSync(archive, 'utf8').split(/^-- (.+) --$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const path = join(root, parts[i] ?? '');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, (parts[i + 1] ?? '').replace(/^\n/, ''));
  }
}

describe('dpkg status against dpkg-query', () => {
  it('agrees with dpkg-query on a Debian 12 excerpt (epochs, Source with and without version)', async () => {
    const files = await wantedFromDir(BOOKWORM, dpkgCataloger);
    const result = await catalog(files, DEBIAN_12);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.packages.length, 14);
    assert.deepEqual(mine(result.packages), dpkgQuery(join(BOOKWORM, 'var/lib/dpkg')));
    const bsdutils = result.packages.find((p) => p.name === 'bsdutils');
    assert.equal(bsdutils?.version, '1:2.38.1-5+deb12u3');
    assert.deepEqual(bsdutils?.source, { name: 'util-linux', version: '2.38.1-5+deb12u3' });
    const zlib = result.packages.find((p) => p.name === 'zlib1g');
    assert.deepEqual(zlib?.source, { name: 'zlib' }, 'no version in Source: none reported');
    assert.equal(result.packages.find((p) => p.name === 'tar')?.source, undefined, 'no Source field: no source');
  });

  it('agrees with dpkg-query on a real Ubuntu status file (trivy fixture, 91 paragraphs)', async (t) => {
    const root = await tempDir(t);
    extractTxtar(join(FIXTURES, 'trivy-valid.txtar'), root);
    const files = await wantedFromDir(root, dpkgCataloger);
    const result = await catalog(files);
    const oracle = dpkgQuery(join(root, 'var/lib/dpkg'));
    assert.ok(oracle.length > 50);
    assert.deepEqual(mine(result.packages), oracle);
  });

  it("agrees with dpkg-query on this machine's own database", async () => {
    const status = readFileSync('/var/lib/dpkg/status');
    const result = await catalog(wantedFiles({ '/var/lib/dpkg/status': status }));
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(mine(result.packages), dpkgQuery('/var/lib/dpkg'));
  });

  it('reports the in-between states dpkg leaves files for, not config-files or not-installed', async (t) => {
    const root = await tempDir(t);
    const stanza = (name: string, status: string) =>
      `Package: ${name}\nStatus: ${status}\nArchitecture: amd64\nVersion: 1.0-1\nDescription: x\n`;
    const status = [
      stanza('a-installed', 'install ok installed'),
      stanza('b-half-configured', 'install ok half-configured'),
      stanza('c-unpacked', 'install ok unpacked'),
      `${stanza('d-triggers', 'install ok triggers-pending')}Triggers-Pending: ldconfig\n`,
      stanza('e-config-files', 'deinstall ok config-files'),
      stanza('f-deinstall-installed', 'deinstall ok installed'),
      stanza('g-hold', 'hold ok installed'),
    ].join('\n');
    mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), status);
    writeFileSync(join(root, 'var/lib/dpkg/available'), '');
    const result = await catalog(wantedFiles({ '/var/lib/dpkg/status': status }));
    const names = result.packages.map((p) => p.name).sort();
    assert.deepEqual(names, [
      'a-installed',
      'b-half-configured',
      'c-unpacked',
      'd-triggers',
      'f-deinstall-installed',
      'g-hold',
    ]);
    assert.deepEqual(mine(result.packages), dpkgQuery(join(root, 'var/lib/dpkg')));
  });
});

describe('dpkg package details', () => {
  it('builds purls with arch and distro, dependsOn from Depends and Pre-Depends, owned files from .list', async () => {
    const files = await wantedFromDir(BOOKWORM, dpkgCataloger);
    const { packages } = await catalog(files, DEBIAN_12);
    const libc = packages.find((p) => p.name === 'libc6');
    assert.equal(libc?.purl, 'pkg:deb/debian/libc6@2.36-9+deb12u14?arch=amd64&distro=debian-12');
    assert.deepEqual(libc?.dependsOn, ['libgcc-s1']);
    assert.ok(libc?.ownedFiles?.includes('/lib/x86_64-linux-gnu/libc.so.6'), 'multiarch <pkg>:<arch>.list read');
    assert.ok(!libc?.ownedFiles?.includes('/.'));
    const bash = packages.find((p) => p.name === 'bash');
    assert.ok(bash?.ownedFiles?.includes('/bin/bash'), 'plain <pkg>.list read');
    // bash: Depends base-files, debianutils; Pre-Depends libc6, libtinfo6.
    assert.deepEqual(bash?.dependsOn, ['base-files', 'debianutils', 'libc6', 'libtinfo6']);
    const bsdutils = packages.find((p) => p.name === 'bsdutils');
    assert.equal(bsdutils?.purl, 'pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64&distro=debian-12');
    const ubuntu = await catalog(files, { family: 'ubuntu', version: '22.04' });
    assert.match(ubuntu.packages[0]?.purl ?? '', /^pkg:deb\/ubuntu\/.*distro=ubuntu-22\.04/);
    for (const p of packages) assert.deepEqual(p.locations, [{ path: '/var/lib/dpkg/status' }]);
  });

  it('maps DEP-5 copyright licenses to SPDX and recognises common-licenses references', async () => {
    const files = await wantedFromDir(BOOKWORM, dpkgCataloger);
    const { packages } = await catalog(files, DEBIAN_12);
    const licenses = (name: string) => packages.find((p) => p.name === name)?.licenses;
    // tar's copyright is DEP-5 (GPL-3+, GPL-3+ with Bison exception, LGPL-3+, GPL-2+), in file order.
    assert.deepEqual(licenses('tar'), ['GPL-3.0-or-later', 'LGPL-3.0-or-later', 'GPL-2.0-or-later']);
    // libc6's is free text pointing at /usr/share/common-licenses/{LGPL-2.1,GPL-2}.
    assert.deepEqual(licenses('libc6'), ['LGPL-2.1-only', 'GPL-2.0-only']);
    assert.deepEqual(
      licensesFromCopyright(
        'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nLicense: GPL-2+ or Artistic\nLicense: Expat\nLicense: GPL-2+ with OpenSSL exception\nLicense: Foo-Custom\n',
      ),
      ['GPL-2.0-or-later', 'Artistic-1.0', 'MIT', 'Foo-Custom'],
    );
    assert.deepEqual(licensesFromCopyright('This is free software under some terms.\n'), []);
  });

  it('reads distroless status.d entries with their md5sums as owned files', async () => {
    const files = wantedFiles({
      '/var/lib/dpkg/status.d/libsqlite3-0': readFileSync(join(FIXTURES, 'libsqlite3-0')),
      '/var/lib/dpkg/status.d/libsqlite3-0.md5sums': readFileSync(join(FIXTURES, 'libsqlite3-0.md5sums')),
    });
    const { packages, warnings } = await catalog(files, { family: 'debian', version: '11' });
    assert.deepEqual(warnings, []);
    assert.equal(packages.length, 1);
    const pkg = packages[0];
    assert.equal(pkg?.name, 'libsqlite3-0');
    assert.equal(pkg?.version, '3.34.1-3');
    assert.deepEqual(pkg?.source, { name: 'sqlite3' });
    assert.equal(pkg?.purl, 'pkg:deb/debian/libsqlite3-0@3.34.1-3?arch=arm64&distro=debian-11');
    assert.ok(pkg?.ownedFiles?.some((f) => f.startsWith('/usr/lib/aarch64-linux-gnu/libsqlite3.so')));
    assert.equal(pkg?.locations[0]?.path, '/var/lib/dpkg/status.d/libsqlite3-0');
    const unknownRelease = await catalog(files, { family: 'debian', version: '' });
    assert.equal(unknownRelease.packages[0]?.purl, 'pkg:deb/debian/libsqlite3-0@3.34.1-3?arch=arm64');
  });

  it('parses Source and dependency fields', () => {
    assert.deepEqual(parseSource('libidn2 (2.0.5-1)'), { name: 'libidn2', version: '2.0.5-1' });
    assert.deepEqual(parseSource('util-linux'), { name: 'util-linux' });
    assert.deepEqual(parseSource(''), {});
    assert.deepEqual(dependencyNames('libc6 (>= 2.34), libfoo1 | libbar1 (<< 2), python3:any', 'dpkg (>= 1.15)'), [
      'dpkg',
      'libbar1',
      'libc6',
      'libfoo1',
      'python3',
    ]);
  });
});

describe('dpkg layer attribution', () => {
  it('attributes each package to the layer that installed or last changed it', async () => {
    const stanza = (name: string, version: string) =>
      `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n`;
    const base = [stanza('libc6', '2.36-9'), stanza('zlib1g', '1.2.13')].join('\n');
    const middle = [stanza('libc6', '2.36-9'), stanza('zlib1g', '1.2.13'), stanza('curl', '7.88')].join('\n');
    const top = [stanza('libc6', '2.36-9+deb12u1'), stanza('zlib1g', '1.2.13'), stanza('curl', '7.88')].join('\n');
    const file: WantedFile = {
      path: '/var/lib/dpkg/status',
      layer: 'sha256:top',
      meta: { size: top.length, mode: 0o644, type: 'file' },
      content: Buffer.from(top),
      history: [
        { layer: 'sha256:base', content: Buffer.from(base) },
        { layer: 'sha256:middle', content: Buffer.from(middle) },
      ],
    };
    const { packages } = await catalog(new Map([[file.path, file]]));
    const layer = (name: string) => packages.find((p) => p.name === name)?.locations[0]?.layer;
    assert.equal(layer('zlib1g'), 'sha256:base');
    assert.equal(layer('curl'), 'sha256:middle');
    assert.equal(layer('libc6'), 'sha256:top');
  });
});

describe('dpkg layer attribution: database history, not info/*.list', () => {
  it('keeps a package in the layer that installed its version when a later layer only rewrote its .list', async () => {
    // A later `apt-get install` of a package that Replaces files of an installed one makes dpkg rewrite the
    // older package's .list (files taken over) without changing its version: the .list layer would blame the
    // wrong step. The status history tracks versions, which is what findings are about.
    const stanza = (name: string, version: string) =>
      `Package: ${name}\nStatus: install ok installed\nArchitecture: all\nVersion: ${version}\n`;
    const base = stanza('liblog4j2-java', '2.19.0-2');
    const top = [base, stanza('log4j-overrides', '1.0')].join('\n');
    const meta = { size: 1, mode: 0o644, type: 'file' as const };
    const files = new Map<string, WantedFile>([
      [
        '/var/lib/dpkg/status',
        {
          path: '/var/lib/dpkg/status',
          layer: 'sha256:top',
          meta,
          content: Buffer.from(top),
          history: [{ layer: 'sha256:base', content: Buffer.from(base) }],
        },
      ],
      [
        '/var/lib/dpkg/info/liblog4j2-java.list',
        {
          path: '/var/lib/dpkg/info/liblog4j2-java.list',
          layer: 'sha256:top',
          meta,
          content: readFileSync(join(FIXTURES, 'liblog4j2-java/liblog4j2-java.list')),
        },
      ],
    ]);
    const { packages } = await catalog(files);
    const layer = (name: string) => packages.find((p) => p.name === name)?.locations[0]?.layer;
    assert.equal(layer('liblog4j2-java'), 'sha256:base');
    assert.equal(layer('log4j-overrides'), 'sha256:top');
    assert.ok(
      packages.find((p) => p.name === 'liblog4j2-java')?.ownedFiles?.includes('/usr/share/java/log4j-core.jar'),
    );
  });
});

describe('dpkg hostile input', () => {
  it('warns about missing fields, missing Status and duplicated paragraphs, and keeps the rest', async () => {
    const status = [
      'Package: good\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n',
      'Status: install ok installed\nVersion: 1\n',
      'Package: noversion\nStatus: install ok installed\n',
      'Package: nostatus\nVersion: 1\n',
      'Package: good\nStatus: install ok installed\nVersion: 2\nArchitecture: all\n',
    ].join('\n');
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/dpkg/status': status }));
    assert.deepEqual(
      packages.map((p) => `${p.name}@${p.version}`),
      ['good@1'],
    );
    assert.equal(warnings.length, 4);
    assert.ok(warnings.every((w) => w.cataloger === 'dpkg' && w.path === '/var/lib/dpkg/status'));
    assert.match(
      warnings.map((w) => w.message).join('\n'),
      /without a Package field[\s\S]*noversion is incomplete: missing Version[\s\S]*nostatus is incomplete: missing Status[\s\S]*duplicate/,
    );
  });

  it('keeps each warning to one line naming the path, whatever the database quotes', async () => {
    const status = `Package: evil\n multi\n\tline\r\nStatus: install ok installed\n\nPackage: ${'x'.repeat(5000)}\nStatus: install ok installed\n`;
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/dpkg/status': status }));
    assert.deepEqual(packages, []);
    assert.equal(warnings.length, 2);
    for (const w of warnings) {
      assert.equal(w.path, '/var/lib/dpkg/status');
      assert.doesNotMatch(w.message, /[\r\n\t]/);
      assert.ok(w.message.length <= 201, `${w.message.length} characters`);
    }
  });

  it('warns about a stanza cut short by a truncated file (zlib1g cut 40 bytes in)', async () => {
    const status = readFileSync(join(BOOKWORM, 'var/lib/dpkg/status'));
    const cut = status.indexOf('Package: zlib1g') + 40;
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/dpkg/status': status.subarray(0, cut) }));
    assert.equal(packages.length, 13);
    assert.ok(!packages.some((p) => p.name === 'zlib1g'));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.path, '/var/lib/dpkg/status');
    assert.match(warnings[0]?.message ?? '', /zlib1g is incomplete: file ends inside its Status field/);
  });

  it('never drops a package silently nor reports a cut version, at any truncation point', async () => {
    const status = readFileSync(join(BOOKWORM, 'var/lib/dpkg/status'));
    const full = new Map(
      (await catalog(wantedFiles({ '/var/lib/dpkg/status': status }))).packages.map((p) => [p.name, p.version]),
    );
    for (let cut = 0; cut < status.length; cut += 13) {
      const prefix = status.subarray(0, cut);
      const result = await catalog(wantedFiles({ '/var/lib/dpkg/status': prefix }));
      for (const p of result.packages) assert.equal(p.version, full.get(p.name), `cut at ${cut}: ${p.name}`);
      const reported = new Set(result.packages.map((p) => p.name));
      const said = result.warnings.map((w) => w.message).join('\n');
      for (const m of prefix.toString('latin1').matchAll(/^Package: (\S+)\n/gm)) {
        const name = m[1] ?? '';
        assert.ok(reported.has(name) || said.includes(name), `cut at ${cut}: ${name} dropped silently`);
      }
    }
  });

  it('skips a paragraph that repeats a field, as dpkg-query refuses it, and reports no invalid name', async (t) => {
    const status = readFileSync(join(BOOKWORM, 'var/lib/dpkg/status'));
    const at = status.indexOf('\n', status.indexOf('Package: libc6\n') + 16);
    const hostile = Buffer.concat([
      status.subarray(0, at + 1),
      Buffer.from('Package: \x00\xff\n', 'latin1'),
      status.subarray(at + 1),
    ]);
    const dir = await tempDir(t, 'lading-dpkg-dup-');
    mkdirSync(join(dir, 'updates'), { recursive: true });
    writeFileSync(join(dir, 'status'), hostile);
    const refused = execFileSync('sh', ['-c', `dpkg-query --admindir='${dir}' -W 2>&1 >/dev/null || true`], {
      encoding: 'utf8',
    });
    assert.match(refused, /duplicate value for 'Package' field/);
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/dpkg/status': hostile }));
    assert.equal(packages.length, 13);
    assert.ok(!packages.some((p) => p.name === 'libc6' || /[^a-z0-9+.-]/.test(p.name)));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.path, '/var/lib/dpkg/status');
    assert.match(warnings[0]?.message ?? '', /libc6 repeats field Package; skipped/);
  });

  it('warns instead of reporting an invalid name, version, architecture or Status', async () => {
    const ok = 'Status: install ok installed\n';
    const status = [
      `Package: Bad_Name\n${ok}Version: 1\n`,
      `Package: x\n${ok}Version: 1\n`,
      `Package: badver\n${ok}Version: 1:\n`,
      `Package: ctlver\n${ok}Version: 1.0\x01\n`,
      `Package: badarch\n${ok}Version: 1\nArchitecture: am d64\n`,
      'Package: badstatus\nStatus: install ok exploded\nVersion: 1\n',
      `Package: badsource\n${ok}Version: 1\nSource: \x1b[31m\nDepends: libc6, \x07bell, zlib1g\n`,
      'Package: gone\nStatus: purge ok not-installed\n',
      'Package: leftover\nStatus: deinstall ok config-files\nVersion: 1\n',
    ].join('\n');
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/dpkg/status': status }));
    assert.deepEqual(
      packages.map((p) => [p.name, p.version, p.source, p.dependsOn]),
      [['badsource', '1', undefined, ['libc6', 'zlib1g']]],
    );
    const said = warnings.map((w) => w.message);
    assert.equal(said.length, 7, said.join('\n'));
    for (const w of said) assert.doesNotMatch(w, /\p{Cc}/u);
    assert.match(
      said.join('\n'),
      /invalid package name "Bad_Name"[\s\S]*invalid package name "x"[\s\S]*badver has an invalid version[\s\S]*ctlver has an invalid version "1.0\\u0001"[\s\S]*badarch has an invalid architecture[\s\S]*badstatus has an invalid Status[\s\S]*invalid source name/,
    );
  });

  it('reports only valid names and versions whatever bytes a paragraph holds', async () => {
    const field = fc.constantFrom('Package', 'Version', 'Status', 'Architecture', 'Source', 'Depends', 'X');
    const value = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('install ok installed', 'zlib1g', '1.2-3', 'all'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(field, value), { maxLength: 8 }), async (pairs) => {
        const text = `Package: ok\nStatus: install ok installed\nVersion: 1\n${pairs.map(([f, v]) => `${f}: ${v}`).join('\n')}\n`;
        const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/dpkg/status': text }));
        assert.equal(packages.length + warnings.filter((w) => w.message.endsWith('skipped')).length, 1);
        for (const p of packages) {
          assert.match(p.name, /^[a-z0-9][a-z0-9+.-]+$/);
          assert.match(p.version, /^[\x21-\x7e]+$/);
          for (const d of p.dependsOn ?? []) assert.match(d, /^[a-z0-9][a-z0-9+.-]+$/);
          assert.match(`${p.source?.name ?? ''}${p.source?.version ?? ''}${p.arch ?? ''}`, /^[\x21-\x7e]*$/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('parses any byte string without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        for (const { stanza } of readStanzas(Buffer.from(bytes), () => {})) assert.ok(stanza instanceof Map);
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(fc.string({ maxLength: 500 }), (s) => parseStanza(s) instanceof Map));
  });

  it('skips an oversized paragraph with a warning', async () => {
    const huge = `Package: big\nStatus: install ok installed\nVersion: 1\nDescription: x\n${' y\n'.repeat(1_500_000)}`;
    const status = `${huge}\nPackage: small\nStatus: install ok installed\nVersion: 1\n`;
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/dpkg/status': status }));
    assert.deepEqual(
      packages.map((p) => p.name),
      ['small'],
    );
    assert.match(warnings[0]?.message ?? '', /paragraph of \d+ bytes skipped/);
  });

  it('reads a 200 MB status file in linear time', async () => {
    const real = readFileSync(join(BOOKWORM, 'var/lib/dpkg/status'), 'utf8');
    const paragraphs = real.split('\n\n').filter((p) => p.trim() !== '');
    const target = 200 * 1024 * 1024;
    const content = Buffer.allocUnsafe(target + 64 * 1024);
    let size = 0;
    let n = 0;
    while (size < target) {
      const p = paragraphs[n % paragraphs.length] ?? '';
      size += content.write(`${p.replace(/^Package: (\S+)/m, `Package: $1-${n}`)}\n\n`, size);
      n++;
    }
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    // Parsing cost is measured on every paragraph: the per-file package cap (run.ts) is lifted past this file's count.
    const limits = { ...DEFAULT_LIMITS, maxPackagesPerFile: Number.POSITIVE_INFINITY };
    const files = wantedFiles({ '/var/lib/dpkg/status': content.subarray(0, size) });
    const { packages, warnings } = await dpkgCataloger.catalog(files, { limits });
    const seconds = (performance.now() - started) / 1000;
    // maxRSS is the process's peak so far (KiB): its rise over the RSS before parsing is what parsing cost at most.
    const peakGrowthMiB = (process.resourceUsage().maxRSS * 1024 - rssBefore) / 2 ** 20;
    assert.equal(packages.length, n);
    assert.deepEqual(warnings, []);
    console.log(`200 MB status (${n} packages): ${seconds.toFixed(1)} s, peak RSS +${peakGrowthMiB.toFixed(0)} MiB`);
    assert.ok(seconds < 45, `took ${seconds} s`);
    // ~150 MiB measured for ~210 000 packages (the packages themselves are ~100 MiB); the first version took ~350.
    assert.ok(peakGrowthMiB < 260, `parsing grew the peak RSS by ${peakGrowthMiB.toFixed(0)} MiB`);
  });
});
