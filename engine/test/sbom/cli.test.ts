import assert from 'node:assert/strict';
import { appendFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { cyclonedxValidator, errorsOf, spdxValidator } from './schemas.js';

const FIXTURES = new URL('../fixtures/sbom/', import.meta.url).pathname;

describe('lading sbom sbom:FILE', () => {
  it('re-emits a Trivy SBOM as valid CycloneDX and SPDX, reproducibly under SOURCE_DATE_EPOCH', async (t) => {
    const dir = await tempDir(t);
    const cdx = join(dir, 'out.cdx.json');
    const spdx = join(dir, 'out.spdx.json');
    const input = `sbom:${FIXTURES}trivy-cyclonedx-1.5.json`;
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const first = await runCli(['sbom', input, '-o', `cyclonedx-json=${cdx}`, '-o', `spdx-json=${spdx}`], { env });
    assert.equal(first.code, 0, first.stderr);
    const cdxDoc = JSON.parse(await readFile(cdx, 'utf8')) as { components: { type: string }[] };
    assert.equal(cdxDoc.components.filter((c) => c.type === 'library').length, 6);
    const validate = cyclonedxValidator('1.6');
    assert.ok(validate(cdxDoc), errorsOf(validate));
    const spdxText = await readFile(spdx, 'utf8');
    const validateSpdx = spdxValidator();
    assert.ok(validateSpdx(JSON.parse(spdxText)), errorsOf(validateSpdx));
    const again = await runCli(['sbom', input, '-o', 'spdx-json'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, spdxText, 'same bytes on a second run');
  });

  it('a file that is not an SBOM exits 3 with one line on stderr', async (t) => {
    const dir = await tempDir(t);
    const result = await runCli(['sbom', `sbom:${join(dir, 'missing.json')}`]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /^lading: cannot read sbom:.*missing\.json: .*no such file/);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    const wrong = await runCli(['sbom', `sbom:${FIXTURES}README.md`]);
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /not valid JSON/);
  });
});

describe('lading scan dir: → cyclonedx-json → scan sbom:', () => {
  it('scanning the SBOM of a rootfs gives the same packages and findings as scanning the rootfs', async (t) => {
    const dir = await tempDir(t);
    const root = join(dir, 'rootfs');
    const fixtures = join(FIXTURES, '../catalog');
    await cp(join(fixtures, 'os/dpkg/bookworm'), root, { recursive: true });
    await mkdir(join(root, 'etc'), { recursive: true });
    await cp(join(fixtures, 'os/release/debian-12'), join(root, 'etc/os-release'));
    await cp(join(fixtures, 'lang/npm/app'), join(root, 'app'), { recursive: true });
    // Two packages the vulndb fixtures have advisories for: Debian's coreutils (unfixed CVE-2016-2781, its real
    // bookworm dpkg stanza) and lodash 4.17.15 (CVE-2021-23337).
    await appendFile(join(root, 'var/lib/dpkg/status'), `\n${COREUTILS_STANZA}`);
    await mkdir(join(root, 'app/node_modules/lodash'), { recursive: true });
    await writeFile(
      join(root, 'app/node_modules/lodash/package.json'),
      '{"name":"lodash","version":"4.17.15","license":"MIT"}',
    );
    const db = join(dir, 'db');
    const imported = await runCli(['db', 'import', join(FIXTURES, '../vulndb/osv'), '--db-dir', db]);
    assert.equal(imported.code, 0, imported.stderr);

    const sbom = join(dir, 'rootfs.cdx.json');
    const common = ['--db-dir', db, '--offline', '-o', 'json'];
    const direct = await runCli(['scan', `dir:${root}`, ...common, '-o', `cyclonedx-json=${sbom}`]);
    assert.equal(direct.code, 0, direct.stderr);
    const viaSbom = await runCli(['scan', `sbom:${sbom}`, ...common]);
    assert.equal(viaSbom.code, 0, viaSbom.stderr);

    type Scan = {
      os?: { ecosystem?: string };
      packages: { id: string; name: string; version: string; type: string; purl: string; source?: unknown }[];
      findings: { id: string; packageId: string; fixedVersions: string[]; severity: string }[];
    };
    const a = JSON.parse(direct.stdout) as Scan;
    const b = JSON.parse(viaSbom.stdout) as Scan;
    const pkgs = (s: Scan) =>
      s.packages.map((p) => ({
        id: p.id,
        name: p.name,
        version: p.version,
        type: p.type,
        purl: p.purl,
        source: p.source,
      }));
    const findings = (s: Scan) =>
      s.findings.map((f) => `${f.id} ${f.packageId} ${f.severity} ${f.fixedVersions.join(',')}`).sort();
    assert.ok(a.packages.filter((p) => p.type === 'deb').length >= 10, 'the dpkg cataloger found the Debian packages');
    assert.deepEqual(pkgs(b), pkgs(a));
    assert.equal(b.os?.ecosystem, 'Debian:12');
    assert.deepEqual(
      findings(a).map((f) => f.split(' ')[0]),
      ['CVE-2016-2781', 'CVE-2021-23337'],
    );
    assert.deepEqual(findings(b), findings(a));

    const cdx = JSON.parse(await readFile(sbom, 'utf8')) as { vulnerabilities?: { id: string }[] };
    assert.deepEqual(cdx.vulnerabilities?.map((v) => v.id).sort(), ['CVE-2016-2781', 'CVE-2021-23337']);
    const validate = cyclonedxValidator('1.6');
    assert.ok(validate(cdx), errorsOf(validate));
  });
});

/** `dpkg -s coreutils` on Debian 12 (bookworm), as its status file records it (description shortened). */
const COREUTILS_STANZA = `Package: coreutils
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 18062
Maintainer: Michael Stone <mstone@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 9.1-1
Pre-Depends: libacl1 (>= 2.2.23), libattr1 (>= 1:2.4.44), libc6 (>= 2.34), libgmp10 (>= 2:6.2.1+dfsg1), libselinux1 (>= 3.1~)
Description: GNU core utilities
 This package contains the basic file, shell and text manipulation
 utilities which are expected to exist on every operating system.
Homepage: http://gnu.org/software/coreutils
`;
