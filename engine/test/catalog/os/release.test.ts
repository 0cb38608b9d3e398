import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { osReleaseCataloger } from '../../../src/catalog/os/release/cataloger.js';
import { detectOs } from '../../../src/catalog/os/release/detect.js';
import { isUbuntuLts, osvEcosystem } from '../../../src/catalog/os/release/ecosystem.js';
import { EOL_FAMILIES, eolDate, isPastEol, releaseKey, withEolStatus } from '../../../src/catalog/os/release/eol.js';
import { parseOsRelease } from '../../../src/catalog/os/release/os-release-file.js';
import { WarningSink } from '../../../src/catalog/os/warnings.js';
import type { OsInfo } from '../../../src/model/os.js';
import { wantedFiles } from '../../helpers/wanted-files.js';

const FIXTURES = new URL('../../fixtures/catalog/os/release/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));

function detect(entries: Record<string, string | Buffer>) {
  const sink = new WarningSink('os-release');
  return { os: detectOs(wantedFiles(entries), sink), warnings: sink.list };
}

describe('os-release parsing', () => {
  it('reads quoted, single-quoted and escaped values and skips comments and junk', () => {
    const fields = parseOsRelease('# c\nID=debian\nNAME="Debian \\"GNU\\"/Linux"\nX=\'a b\'\nnot a line\n=x\n');
    assert.equal(fields.get('ID'), 'debian');
    assert.equal(fields.get('NAME'), 'Debian "GNU"/Linux');
    assert.equal(fields.get('X'), 'a b');
    assert.equal(fields.size, 3);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => parseOsRelease(s) instanceof Map));
  });
});

describe('OS detection from real os-release files', () => {
  const cases: [string, string, string, string | undefined][] = [
    ['debian-12', 'debian', '12', 'Debian:12'],
    ['ubuntu-22.04', 'ubuntu', '22.04', 'Ubuntu:22.04:LTS'],
    ['ubuntu-23.10', 'ubuntu', '23.10', 'Ubuntu:23.10'],
    ['alpine-3.19.1', 'alpine', '3.19.1', 'Alpine:v3.19'],
    ['rhel-9.3', 'rhel', '9.3', 'Red Hat:enterprise_linux:9::baseos'],
    ['rocky-9.3', 'rocky', '9.3', 'Rocky Linux:9'],
    ['almalinux-8.9', 'almalinux', '8.9', 'AlmaLinux:8'],
    ['sles-15.5', 'sles', '15.5', 'SUSE:Linux Enterprise Server 15 SP5'],
    ['opensuse-leap-15.5', 'opensuse-leap', '15.5', 'openSUSE:Leap 15.5'],
    ['wolfi', 'wolfi', '20230201', 'Wolfi'],
    ['chainguard', 'chainguard', '20230214', 'Chainguard'],
    ['azurelinux-3.0', 'azurelinux', '3.0', 'Azure Linux:3'],
    ['mariner-2.0', 'mariner', '2.0', 'Azure Linux:2'],
    ['amzn-2023', 'amzn', '2023', undefined],
    ['debian-trixie-sid', 'debian', 'trixie', 'Debian:13'],
  ];
  for (const [file, family, version, ecosystem] of cases) {
    it(`${file} → ${ecosystem ?? 'no OSV ecosystem'}`, () => {
      const { os, warnings } = detect({ '/etc/os-release': fixture(file) });
      assert.deepEqual(warnings, []);
      assert.equal(os?.family, family);
      assert.equal(os?.version, version);
      assert.equal(os?.ecosystem, ecosystem);
      assert.ok(os?.name, 'PRETTY_NAME is kept');
    });
  }

  it('prefers /etc/os-release and falls back to /usr/lib/os-release when /etc holds only a link', () => {
    const { os } = detect({ '/etc/os-release': '', '/usr/lib/os-release': fixture('debian-12') });
    assert.equal(os?.ecosystem, 'Debian:12');
    const both = detect({ '/etc/os-release': fixture('ubuntu-22.04'), '/usr/lib/os-release': fixture('debian-12') });
    assert.equal(both.os?.family, 'ubuntu');
  });

  it('warns about an os-release without ID and falls back to the release files', () => {
    const { os, warnings } = detect({ '/etc/os-release': 'NAME=x\n', '/etc/debian_version': '11.9\n' });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /no ID/);
    assert.equal(os?.ecosystem, 'Debian:11');
  });
});

describe('OS detection without os-release', () => {
  it('reads /etc/alpine-release', () => {
    assert.equal(detect({ '/etc/alpine-release': '3.18.4\n' }).os?.ecosystem, 'Alpine:v3.18');
  });
  it('reads /etc/redhat-release (CentOS 7) and /etc/system-release (Amazon Linux 2)', () => {
    const centos = detect({ '/etc/redhat-release': 'CentOS Linux release 7.9.2009 (Core)\n' }).os;
    assert.deepEqual([centos?.family, centos?.version, centos?.eolDate], ['centos', '7.9.2009', '2024-06-30']);
    const amzn = detect({ '/etc/system-release': 'Amazon Linux release 2 (Karoo)\n' }).os;
    assert.deepEqual([amzn?.family, amzn?.version], ['amzn', '2']);
  });
  it('reads /etc/debian_version, numeric and testing', () => {
    assert.equal(detect({ '/etc/debian_version': '12.5\n' }).os?.ecosystem, 'Debian:12');
    const sid = detect({ '/etc/debian_version': 'trixie/sid\n' }).os;
    assert.deepEqual([sid?.family, sid?.version, sid?.ecosystem], ['debian', 'trixie/sid', 'Debian:13']);
  });
  it('recognises a distroless image by its status.d directory alone', () => {
    const { os } = detect({ '/var/lib/dpkg/status.d/libc6': 'Package: libc6\n' });
    assert.deepEqual(os, { family: 'debian', version: '' });
  });
  it('finds nothing in an unrelated file set and survives binary garbage', () => {
    assert.equal(detect({}).os, undefined);
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const result = detect({ '/etc/os-release': garbage, '/etc/redhat-release': garbage });
    assert.equal(result.os, undefined);
  });
});

describe('ecosystem naming and end of life', () => {
  it('marks only April releases of even years as Ubuntu LTS', () => {
    assert.deepEqual(['20.04', '22.04', '24.04', '23.04', '22.10'].map(isUbuntuLts), [true, true, true, false, false]);
    assert.equal(osvEcosystem({ id: 'ubuntu', codename: 'noble' }), 'Ubuntu:24.04:LTS');
  });
  it('lets /etc/apk/repositories decide the Alpine release when it disagrees with os-release', () => {
    const repos =
      'https://dl-cdn.alpinelinux.org/alpine/v3.20/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.20/community\n';
    const upgraded = detect({ '/etc/os-release': fixture('alpine-3.19.1'), '/etc/apk/repositories': repos });
    assert.equal(upgraded.os?.ecosystem, 'Alpine:v3.20');
    assert.match(upgraded.warnings[0]?.message ?? '', /repositories say v3\.20/);
    const same = detect({
      '/etc/os-release': fixture('alpine-3.19.1'),
      '/etc/apk/repositories': repos.replaceAll('3.20', '3.19'),
    });
    assert.deepEqual([same.os?.ecosystem, same.warnings], ['Alpine:v3.19', []]);
    const edge = detect({
      '/etc/os-release': fixture('alpine-3.19.1'),
      '/etc/apk/repositories': 'https://x/alpine/edge/main\n',
    });
    assert.equal(edge.os?.ecosystem, 'Alpine:v3.19');
  });

  it('keeps Alpine to major.minor and falls back to bare Alpine without a version', () => {
    assert.equal(osvEcosystem({ id: 'alpine', versionId: '3.20.0_alpha20240329' }), 'Alpine:v3.20');
    assert.equal(osvEcosystem({ id: 'alpine' }), 'Alpine');
  });
  it('records the end-of-life date; whether it has passed is judged for a given moment', () => {
    assert.equal(eolDate('debian', '10'), '2024-06-30');
    assert.equal(isPastEol('2024-06-30', '2024-06-30T12:00:00Z'), false);
    assert.equal(isPastEol('2024-06-30', '2024-07-01'), true);
    const buster = detect({ '/etc/os-release': 'ID=debian\nVERSION_ID="10"\n' }).os!;
    assert.deepEqual([buster.eolDate, buster.eol], ['2024-06-30', undefined], 'the catalog gives no verdict');
    assert.equal(withEolStatus(buster, new Date('2024-06-30T23:00:00Z')).eol, false);
    assert.equal(withEolStatus(buster, new Date('2025-01-01T00:00:00Z')).eol, true);
    const bookworm = detect({ '/etc/os-release': fixture('debian-12') }).os!;
    assert.equal(withEolStatus(bookworm, new Date('2026-11-22T00:00:00Z')).eol, false);
    assert.equal(withEolStatus(bookworm, new Date('2028-07-01T00:00:00Z')).eol, true);
    const unknown = detect({ '/etc/os-release': 'ID=debian\nVERSION_ID=99\n' }).os!;
    assert.equal(unknown.eolDate, undefined);
    assert.deepEqual(
      withEolStatus(unknown, new Date()),
      { ...unknown, eolStatus: 'unknown' },
      'no date known: said as unknown, never a verdict',
    );
  });

  it('knows every release from Alpine 3.0, Debian 7 and Ubuntu 12.04 on, and the RHEL, SUSE and Amazon families', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    const status = (id: string, version: string) =>
      withEolStatus(detect({ '/etc/os-release': `ID=${id}\nVERSION_ID="${version}"\n` }).os!, at);
    assert.deepEqual(pick(status('alpine', '3.0.6')), ['2016-05-01', true, 'end-of-life']);
    assert.deepEqual(pick(status('alpine', '3.10.9')), ['2021-05-01', true, 'end-of-life']);
    assert.deepEqual(pick(status('alpine', '3.23.2')), ['2027-11-01', false, 'supported']);
    assert.deepEqual(pick(status('debian', '7')), ['2018-05-31', true, 'end-of-life']);
    assert.deepEqual(pick(status('ubuntu', '12.04')), ['2017-04-28', true, 'end-of-life']);
    assert.deepEqual(pick(status('ubuntu', '24.04')), ['2029-05-31', false, 'supported']);
    assert.deepEqual(pick(status('rhel', '6.10')), ['2020-11-30', true, 'end-of-life']);
    assert.deepEqual(pick(status('ol', '8.9')), ['2029-07-01', false, 'supported']);
    assert.deepEqual(pick(status('rocky', '9.4')), ['2032-05-31', false, 'supported']);
    assert.deepEqual(pick(status('almalinux', '8.10')), ['2029-03-01', false, 'supported']);
    assert.deepEqual(pick(status('centos', '8')), ['2021-12-31', true, 'end-of-life']);
    assert.deepEqual(pick(status('sles', '15.4')), ['2023-12-31', true, 'end-of-life']);
    assert.deepEqual(pick(status('sles', '12.5')), ['2024-10-31', true, 'end-of-life']);
    // Amazon Linux AMI (release 1) names its versions by date; Amazon Linux 2 and 2023 by their number.
    assert.deepEqual(pick(status('amzn', '2018.03')), ['2023-12-31', true, 'end-of-life']);
    assert.deepEqual(pick(status('amzn', '2')), ['2026-06-30', true, 'end-of-life']);
    assert.deepEqual(pick(status('amzn', '2023')), ['2029-06-30', false, 'supported']);
    // Rolling distributions have no releases to end.
    assert.deepEqual(pick(status('wolfi', '20230201')), [undefined, undefined, 'rolling']);
    assert.deepEqual(pick(status('chainguard', '20230214')), [undefined, undefined, 'rolling']);
    assert.deepEqual(pick(status('alpine', '3.99.0')), [undefined, undefined, 'unknown']);
  });

  it('keeps the dates as data: every family names its source, every date is a real ISO date', () => {
    assert.ok(Object.keys(EOL_FAMILIES).length >= 12);
    for (const [family, data] of Object.entries(EOL_FAMILIES)) {
      assert.match(data.source, /https:\/\//, `${family} names its source`);
      assert.ok(data.rolling || Object.keys(data.releases ?? {}).length > 0, family);
      for (const [release, r] of Object.entries(data.releases ?? {})) {
        assert.match(r.eol, /^\d{4}-\d{2}-\d{2}$/, `${family} ${release}`);
        assert.equal(new Date(`${r.eol}T00:00:00Z`).toISOString().slice(0, 10), r.eol, `${family} ${release}`);
        assert.equal(releaseKey(family, release), `${family}:${release}`, 'keys are what releaseKey derives');
      }
    }
    const alpine = Object.keys(EOL_FAMILIES['alpine']?.releases ?? {});
    for (let minor = 0; minor <= 23; minor++) assert.ok(alpine.includes(`3.${minor}`), `alpine 3.${minor}`);
    const debian = Object.keys(EOL_FAMILIES['debian']?.releases ?? {});
    for (let major = 7; major <= 13; major++) assert.ok(debian.includes(String(major)), `debian ${major}`);
  });
});

function pick(os: OsInfo): [string | undefined, boolean | undefined, string | undefined] {
  return [os.eolDate, os.eol, os.eolStatus];
}

describe('os-release cataloger', () => {
  it('wants only release files and distroless entries, and reports the OS without packages', async () => {
    assert.equal(osReleaseCataloger.wants('/etc/os-release', { size: 1, mode: 0o644, type: 'file' }), true);
    assert.equal(osReleaseCataloger.wants('/etc/passwd', { size: 1, mode: 0o644, type: 'file' }), false);
    const result = await osReleaseCataloger.catalog(wantedFiles({ '/etc/os-release': fixture('debian-12') }), {
      limits: DEFAULT_LIMITS,
    });
    assert.equal(result.os?.ecosystem, 'Debian:12');
    assert.deepEqual(result.packages, []);
  });
});

describe('os-release hostile values', () => {
  it('ignores an ID, VERSION_ID or codename outside os-release(5) characters, with a warning', () => {
    const evil = detect({
      '/etc/os-release': 'ID="debian\u001b[2J"\nVERSION_ID=12\n',
      '/usr/lib/os-release':
        'ID=debian\nVERSION_ID="12\u0000x"\nVERSION_CODENAME="book\u202eworm"\nPRETTY_NAME="Debian\u0007 12"\n',
    });
    assert.deepEqual(evil.os, { family: 'debian', version: '', name: 'Debian  12' });
    assert.deepEqual(
      evil.warnings.map((w) => [w.path, w.message.replace(/ ".*"/, '')]),
      [
        ['/etc/os-release', 'os-release has an invalid ID; ignored'],
        ['/usr/lib/os-release', 'os-release has an invalid VERSION_ID; ignored'],
        ['/usr/lib/os-release', 'os-release has an invalid VERSION_CODENAME; ignored'],
      ],
    );
  });

  it('reads no version out of control characters in release files', () => {
    assert.equal(detect({ '/etc/alpine-release': '3.19\u0000\n' }).os, undefined);
    assert.equal(detect({ '/etc/debian_version': 'trixie\u001b/sid\n' }).os, undefined);
    const rh = detect({ '/etc/redhat-release': 'Rocky Linux release 9.3 (Blue\u0007 Onyx)\n' }).os;
    assert.deepEqual([rh?.family, rh?.version, rh?.name], ['rocky', '9.3', 'Rocky Linux release 9.3 (Blue  Onyx)']);
  });

  it('never reports control characters in any OsInfo field, whatever os-release holds', () => {
    const value = fc.string({ unit: 'binary', maxLength: 16 });
    fc.assert(
      fc.property(value, value, value, value, (id, version, codename, pretty) => {
        const text = [`ID=${id}`, `VERSION_ID=${version}`, `VERSION_CODENAME=${codename}`, `PRETTY_NAME=${pretty}`];
        const { os } = detect({ '/etc/os-release': text.join('\n') });
        for (const field of Object.values(os ?? {})) {
          if (typeof field === 'string') assert.doesNotMatch(field, /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u);
        }
      }),
      { numRuns: 300 },
    );
  });
});
