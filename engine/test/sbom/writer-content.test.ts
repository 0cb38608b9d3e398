import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { cyclonedxLicenses } from '../../src/sbom/cyclonedx-licenses.js';
import { renderCycloneDx } from '../../src/sbom/cyclonedx-writer.js';
import { classifyLicense, normalizeExpression } from '../../src/sbom/license-expression.js';
import { renderSpdx } from '../../src/sbom/spdx-writer.js';
import { sampleReport } from './sample-report.js';

// biome-ignore lint/suspicious/noExplicitAny: the test walks parsed JSON of known shape
type Json = Record<string, any>;

describe('CycloneDX content', () => {
  const doc: Json = JSON.parse(renderCycloneDx(sampleReport(), DEFAULT_RENDER_OPTIONS));

  it('the image is the root: container, oci purl with the manifest digest, SHA-256 hash', () => {
    const root = doc.metadata.component;
    assert.equal(root.type, 'container');
    assert.equal(root.name, 'docker.io/acme/api');
    assert.equal(root.version, '1.4.2');
    assert.equal(
      root.purl,
      'pkg:oci/api@sha256:9a1c7ce3c4d2b3ac3b1f9a61bd8b2e3e2fa3c9a8f54cbc3a4b8e0d6a7c4b1f2e?arch=amd64&repository_url=docker.io%2Facme%2Fapi&tag=1.4.2',
    );
    assert.deepEqual(root.hashes, [
      { alg: 'SHA-256', content: '9a1c7ce3c4d2b3ac3b1f9a61bd8b2e3e2fa3c9a8f54cbc3a4b8e0d6a7c4b1f2e' },
    ]);
    assert.equal(doc.metadata.tools.components[0].name, 'lading');
  });

  it('packages: OS component, sorted libraries, unique bom-refs, licenses by kind, npm integrity as hex', () => {
    assert.equal(doc.components[0].type, 'operating-system');
    const libs = doc.components.slice(1);
    assert.deepEqual(libs.map((c: Json) => `${c.name}@${c.version}`).slice(0, 4), [
      'libc6@2.36-9+deb12u9',
      'libssl3@3.0.15-1~deb12u1',
      'openssl@3.0.15-1~deb12u1',
      'zlib1g@1:1.2.13.dfsg-1',
    ]);
    const refs = doc.components.map((c: Json) => c['bom-ref']);
    assert.equal(new Set(refs).size, refs.length);
    const babel = libs.find((c: Json) => c.name === '@babel/core');
    assert.deepEqual(babel.licenses, [{ expression: 'MIT OR Apache-2.0' }]);
    const express = libs.find((c: Json) => c.name === 'express');
    assert.deepEqual(express.licenses, [{ license: { id: 'MIT' } }]);
    assert.equal(express.hashes[0].alg, 'SHA-512');
    assert.match(express.hashes[0].content, /^[0-9a-f]{128}$/);
    const zlib = libs.find((c: Json) => c.name === 'zlib1g');
    assert.deepEqual(
      zlib.properties.filter((p: Json) => p.name.startsWith('lading:package:source')),
      [
        { name: 'lading:package:sourceName', value: 'zlib' },
        { name: 'lading:package:sourceVersion', value: '1:1.2.13.dfsg-1' },
      ],
    );
  });

  it('vulnerabilities: one entry per vulnerability, ratings with vectors, fixes, VEX analysis for suppressed ones', () => {
    const vulns: Json[] = doc.vulnerabilities;
    assert.equal(vulns.length, 2);
    const ssl = vulns.find((v) => v.id === 'CVE-2024-5535') as Json;
    assert.deepEqual(ssl.affects.map((a: Json) => a.ref).sort(), [
      'pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12',
      'pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64&distro=debian-12',
    ]);
    assert.deepEqual(ssl.ratings[0], { source: { name: 'distro' }, severity: 'medium' });
    assert.deepEqual(ssl.ratings[1], {
      source: { name: 'nvd' },
      score: 9.1,
      severity: 'critical',
      method: 'CVSSv31',
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H',
    });
    assert.equal(ssl.recommendation, 'Upgrade libssl3 to 3.0.15-1~deb12u1+1');
    assert.equal(ssl.published, '2024-06-27T11:15:24.000Z');
    assert.deepEqual(ssl.references, [
      { id: 'DSA-5769-1', source: { name: 'OSV', url: 'https://osv.dev/vulnerability/DSA-5769-1' } },
    ]);
    assert.equal(ssl.analysis, undefined);
    const debug = vulns.find((v) => v.id === 'CVE-2017-16137') as Json;
    assert.equal(debug.analysis.state, 'not_affected');
    assert.equal(debug.analysis.justification, 'code_not_reachable');
    assert.match(debug.analysis.detail, /^vex: not_affected/);
  });
});

describe('SPDX content', () => {
  const doc: Json = JSON.parse(renderSpdx(sampleReport(), DEFAULT_RENDER_OPTIONS));

  it('describes the image, which contains every package; dependencies as DEPENDS_ON', () => {
    const root = doc.packages[0];
    assert.equal(root.primaryPackagePurpose, 'CONTAINER');
    const rels: Json[] = doc.relationships;
    assert.deepEqual(rels[0], {
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
      relatedSpdxElement: root.SPDXID,
    });
    const contained = rels.filter((r) => r.relationshipType === 'CONTAINS' && r.spdxElementId === root.SPDXID);
    assert.equal(contained.length, doc.packages.length - 1);
    const idOf = (name: string, version?: string) =>
      doc.packages.find((p: Json) => p.name === name && (!version || p.versionInfo === version)).SPDXID;
    assert.ok(
      rels.some(
        (r) =>
          r.spdxElementId === idOf('openssl') &&
          r.relationshipType === 'DEPENDS_ON' &&
          r.relatedSpdxElement === idOf('libssl3'),
      ),
    );
    for (const p of doc.packages) assert.match(p.SPDXID, /^SPDXRef-[A-Za-z0-9.-]+$/);
    assert.match(doc.documentNamespace, /^https:\/\/lading\.invalid\/spdxdocs\/image\//);
  });

  it('licenses: valid expressions kept, other text as declared LicenseRefs', () => {
    const libc = doc.packages.find((p: Json) => p.name === 'libc6');
    assert.match(
      libc.licenseDeclared,
      /^LicenseRef-GPL-2-[0-9a-f]{8} AND LGPL-2\.1 AND \(GPL-2\.0-or-later WITH GCC-exception-2\.0\)$/,
    );
    const ref = libc.licenseDeclared.split(' ')[0];
    assert.deepEqual(
      doc.hasExtractedLicensingInfos.find((e: Json) => e.licenseId === ref),
      { licenseId: ref, name: 'GPL-2', extractedText: 'GPL-2' },
    );
    const libssl = doc.packages.find((p: Json) => p.name === 'libssl3');
    assert.equal(libssl.sourceInfo, 'built package from: openssl');
    assert.equal(libssl.supplier, 'Organization: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>');
  });
});

describe('license classification', () => {
  it('SPDX ids, expressions and free text', () => {
    assert.deepEqual(classifyLicense('mit'), { kind: 'id', id: 'MIT' });
    assert.deepEqual(classifyLicense('LicenseRef-acme'), { kind: 'id', id: 'LicenseRef-acme' });
    assert.deepEqual(classifyLicense('(mit or  apache-2.0) AND BSD-3-Clause'), {
      kind: 'expression',
      expression: '(MIT OR Apache-2.0) AND BSD-3-Clause',
    });
    assert.deepEqual(classifyLicense('GPL-2.0+'), { kind: 'id', id: 'GPL-2.0+' });
    assert.deepEqual(classifyLicense('GPL-2+'), { kind: 'name', name: 'GPL-2+' });
    assert.deepEqual(classifyLicense('BSD-like'), { kind: 'name', name: 'BSD-like' });
    for (const bad of ['MIT AND', '(MIT', 'MIT)', 'AND MIT', 'MIT WITH', 'MIT OR OR Apache-2.0', '', 'public domain']) {
      assert.equal(normalizeExpression(bad), undefined, bad);
    }
    assert.equal(
      normalizeExpression(`${'(MIT AND '.repeat(100)}MIT${')'.repeat(100)}`),
      undefined,
      'nesting is bounded',
    );
    assert.equal(normalizeExpression('((MIT OR Apache-2.0))'), 'MIT OR Apache-2.0');
  });

  it('1.5/1.6 never mix an expression into a license list; 1.7 may', () => {
    assert.deepEqual(cyclonedxLicenses(['MIT', 'Apache-2.0 OR MIT'], '1.6'), [
      { expression: 'MIT AND (Apache-2.0 OR MIT)' },
    ]);
    assert.deepEqual(cyclonedxLicenses(['MIT', 'Apache-2.0 OR MIT'], '1.7'), [
      { license: { id: 'MIT' } },
      { expression: 'Apache-2.0 OR MIT' },
    ]);
    assert.deepEqual(cyclonedxLicenses(['Artistic', 'MIT OR X11'], '1.5'), [
      { license: { name: 'Artistic' } },
      { license: { name: 'MIT OR X11' } },
    ]);
    assert.equal(cyclonedxLicenses([' '], '1.6'), undefined);
  });
});
