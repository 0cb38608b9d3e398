import { assignIds } from '../../src/catalog/run.js';
import type { Finding } from '../../src/model/finding.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { PackageFound } from '../../src/model/package.js';
import type { Report } from '../../src/model/report.js';
import type { TargetInfo } from '../../src/model/target.js';
import { buildReport } from '../../src/report/build.js';

const LAYER_1 = 'sha256:d2ed9a3ba1e4a1b1b2bfa3c6cb1d4f3f7f6fbfbd5a1d3ad2c7bba4fbc2b1d1a0';
const LAYER_2 = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** Real package facts from debian:12 (dpkg status) and an npm app, as catalogers report them. */
export function sampleFound(): PackageFound[] {
  const deb = (
    name: string,
    version: string,
    source: { name: string; version?: string } | undefined,
    licenses: string[],
    dependsOn: string[] = [],
  ): PackageFound => ({
    name,
    version,
    type: 'deb',
    purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=amd64&distro=debian-12`,
    ...(source ? { source } : {}),
    arch: 'amd64',
    licenses,
    locations: [{ path: '/var/lib/dpkg/status', layer: LAYER_1 }],
    foundBy: 'dpkg',
    dependsOn,
    metadata: { maintainer: 'Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>' },
  });
  const npm = (
    name: string,
    version: string,
    path: string,
    licenses: string[],
    dependsOn: string[] = [],
  ): PackageFound => ({
    name,
    version,
    type: 'npm',
    purl: name.startsWith('@')
      ? `pkg:npm/${encodeURIComponent(name.split('/')[0] as string)}/${name.split('/')[1]}@${version}`
      : `pkg:npm/${name}@${version}`,
    licenses,
    locations: [{ path, layer: LAYER_2 }],
    foundBy: 'npm',
    dependsOn,
    hashes: [
      {
        alg: 'SHA-512',
        content: 'HS8ZTw9p7dbGl2vi86DvrDL5pVhnVmj6kWJNZ+XvpkQJuYvWIAVfn8CjifSu+RjN6FCT66s6qq8BWyjzaIKUSA==',
      },
    ],
  });
  return [
    deb('libssl3', '3.0.15-1~deb12u1', { name: 'openssl' }, ['Apache-2.0'], ['libc6']),
    deb('openssl', '3.0.15-1~deb12u1', undefined, ['Apache-2.0'], ['libc6', 'libssl3']),
    deb(
      'libc6',
      '2.36-9+deb12u9',
      { name: 'glibc' },
      ['GPL-2', 'LGPL-2.1', 'GPL-2.0-or-later WITH GCC-exception-2.0'],
      [],
    ),
    deb('zlib1g', '1:1.2.13.dfsg-1', { name: 'zlib', version: '1:1.2.13.dfsg-1' }, ['Zlib'], ['libc6']),
    npm('express', '4.19.2', '/app/node_modules/express/package.json', ['MIT'], ['debug', 'ms']),
    npm('debug', '2.6.9', '/app/node_modules/debug/package.json', ['MIT'], ['ms']),
    npm('ms', '2.0.0', '/app/node_modules/ms/package.json', ['MIT']),
    npm('ms', '2.1.3', '/app/node_modules/send/node_modules/ms/package.json', ['MIT']),
    npm('@babel/core', '7.24.0', '/app/node_modules/@babel/core/package.json', ['(MIT OR Apache-2.0)']),
  ];
}

export function sampleTarget(): TargetInfo {
  return {
    kind: 'image',
    ref: 'docker.io/acme/api:1.4.2',
    digest: 'sha256:9a1c7ce3c4d2b3ac3b1f9a61bd8b2e3e2fa3c9a8f54cbc3a4b8e0d6a7c4b1f2e',
    imageId: 'sha256:1f3b2c0f4f8e27b8d1c1f0a5b7d5f0a2a9e1b7c3d4e5f60718293a4b5c6d7e8f',
    platform: 'linux/amd64',
    layers: [{ diffId: LAYER_1 }, { diffId: LAYER_2 }],
  };
}

export function sampleInventory(found: PackageFound[] = sampleFound()): Inventory {
  return {
    os: {
      family: 'debian',
      version: '12',
      name: 'Debian GNU/Linux 12 (bookworm)',
      ecosystem: 'Debian:12',
      eolDate: '2028-06-30',
      eol: false,
    },
    packages: assignIds(found),
    warnings: [],
  };
}

/** Two real advisories: CVE-2024-5535 (openssl, via DSA) and CVE-2024-4067 (micromatch-like npm case, suppressed by VEX). */
export function sampleFindings(inventory: Inventory): Finding[] {
  const libssl = inventory.packages.find((p) => p.name === 'libssl3');
  const openssl = inventory.packages.find((p) => p.name === 'openssl');
  const debug = inventory.packages.find((p) => p.name === 'debug');
  if (!libssl || !openssl || !debug) throw new Error('sample inventory incomplete');
  const ssl = (pkg: typeof libssl): Finding => ({
    id: 'CVE-2024-5535',
    aliases: ['DSA-5769-1'],
    packageId: pkg.id,
    package: { name: pkg.name, version: pkg.version, type: pkg.type, purl: pkg.purl },
    severity: 'MEDIUM',
    severitySource: 'distro',
    cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H', score: 9.1, source: 'nvd' }],
    status: 'fixed',
    fixedVersions: ['3.0.15-1~deb12u1+1'],
    title: 'SSL_select_next_proto buffer overread',
    kev: false,
    epss: 0.0045,
    advisory: { id: 'DSA-5769-1', source: 'osv', url: 'https://security-tracker.debian.org/tracker/DSA-5769-1' },
    references: ['https://www.openssl.org/news/secadv/20240627.txt'],
    published: '2024-06-27T11:15:24Z',
    layer: pkg.locations[0]?.layer,
  });
  return [
    ssl(libssl),
    ssl(openssl),
    {
      id: 'CVE-2017-16137',
      aliases: ['GHSA-gxpj-cx7g-858c'],
      packageId: debug.id,
      package: { name: debug.name, version: debug.version, type: debug.type, purl: debug.purl },
      severity: 'LOW',
      cvss: [{ version: '3.0', vector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L', score: 3.7, source: 'ghsa' }],
      status: 'fixed',
      fixedVersions: ['2.6.9', '3.1.0'],
      kev: false,
      advisory: { id: 'GHSA-gxpj-cx7g-858c', source: 'osv' },
      suppressed: { kind: 'vex', reason: 'not_affected: vulnerable_code_not_in_execute_path', source: 'vex.json' },
    },
  ];
}

export function sampleReport(options: { findings?: boolean } = {}): Report {
  const inventory = sampleInventory();
  const findings = options.findings === false ? [] : sampleFindings(inventory);
  return buildReport({
    target: sampleTarget(),
    inventory,
    findings,
    warnings: [],
    createdAt: new Date('2026-11-22T02:00:00.123Z'),
  });
}
