import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPredicate } from '../../src/attest/predicate-check.js';
import { PREDICATE_TYPES } from '../../src/attest/predicate-types.js';
import { buildProvenance } from '../../src/attest/provenance.js';
import { reportImageDigests } from '../../src/attest/report-binding.js';
import { LadingError } from '../../src/errors/lading-error.js';
import { renderJson } from '../../src/report/json.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { renderCycloneDx } from '../../src/sbom/cyclonedx-writer.js';
import { renderSpdx } from '../../src/sbom/spdx-writer.js';
import { finding, pkg, report } from '../helpers/reports.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const OTHER = `sha256:${'d'.repeat(64)}`;
const subject = { name: 'registry.example.com/app', digest: DIGEST };
const libc = pkg('deb', 'libc6', '2.36-9+deb12u1');
const base = report('registry.example.com/app:1.0', [libc], [finding(libc, 'CVE-2023-4911', 'HIGH')]);
const scanned = { ...base, target: { ...base.target, digest: DIGEST } };
const type = (short: string) => PREDICATE_TYPES[short]!;
const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

function refused(code: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof LadingError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, pattern);
    return true;
  };
}

const provenance = buildProvenance({
  context: {
    buildType: 'https://lading.dev/buildtypes/local/v1',
    builderId: 'https://lading.dev/builders/local',
    invocationId: 'local-1',
    externalParameters: { workflow: 'x' },
    internalParameters: {},
  } as unknown as Parameters<typeof buildProvenance>[0]['context'],
  dependencies: [{ uri: 'pkg:docker/debian@12', digest: { sha256: 'e'.repeat(64) } }],
  byproducts: [],
  startedOn: new Date('2026-11-01T00:00:00Z'),
  finishedOn: new Date('2026-11-01T00:01:00Z'),
});

describe('predicate checks before attesting', () => {
  it("accepts Lading's own outputs for their types: provenance, CycloneDX, SPDX, report", async () => {
    await checkPredicate(type('slsaprovenance1'), provenance, subject);
    await checkPredicate(type('cyclonedx'), json(renderCycloneDx(scanned, DEFAULT_RENDER_OPTIONS)), subject);
    await checkPredicate(type('spdxjson'), json(renderSpdx(scanned, DEFAULT_RENDER_OPTIONS)), subject);
    await checkPredicate(type('lading-report'), json(renderJson(scanned)), subject);
    await checkPredicate(
      type('slsaprovenance'),
      { builder: { id: 'https://github.com/actions/runner' }, buildType: 'https://example.com/b', materials: [] },
      subject,
    );
    await checkPredicate(
      type('vuln'),
      {
        invocation: { parameters: null, uri: '', event_id: '', 'builder.id': '' },
        scanner: { uri: 'pkg:github/aquasecurity/trivy@0.50.0', version: '0.50.0', result: {} },
        metadata: { scanStartedOn: '2026-11-01T00:00:00Z', scanFinishedOn: '2026-11-01T00:00:05Z' },
      },
      subject,
    );
    // Custom types and unknown URIs are signed as given.
    await checkPredicate(type('custom'), 'anything', subject);
    await checkPredicate('https://example.com/my-type/v1', [1, 2], subject);
  });

  it('refuses a predicate that is not what its type says (exit 3), naming the field', async () => {
    const cases: [string, unknown, RegExp][] = [
      [
        'slsaprovenance1',
        { builder: { id: 'x' } },
        /slsa\.dev\/provenance\/v1 predicate: buildDefinition must be an object/,
      ],
      ['slsaprovenance1', { ...provenance, runDetails: { builder: {} } }, /runDetails\.builder\.id must be a URI/],
      ['slsaprovenance', { buildType: 'x' }, /builder\.id must be a URI/],
      ['cyclonedx', { bomFormat: 'SPDX', specVersion: '1.6' }, /bomFormat must be "CycloneDX"/],
      [
        'cyclonedx',
        { bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library' }] },
        /components\[0\]\.name is required/,
      ],
      ['spdxjson', json(renderCycloneDx(scanned, DEFAULT_RENDER_OPTIONS)), /spdxVersion must be an SPDX 2\.x version/],
      ['vuln', { scanner: { uri: 'x', result: {} } }, /metadata must be an object/],
      ['lading-report', { hello: 'world' }, /not a Lading JSON report/],
      ['lading-report', { ...scanned, findings: 'none' }, /\/findings must be array/],
      ['lading-report', [], /not a JSON object/],
      [
        'slsaprovenance1',
        { _type: 'https://in-toto.io/Statement/v1', predicate: provenance },
        /whole in-toto statement/,
      ],
    ];
    for (const [short, predicate, pattern] of cases) {
      await assert.rejects(
        checkPredicate(type(short), predicate, subject, 'p.json'),
        refused('BAD_INPUT', pattern),
        short,
      );
    }
  });

  it('refuses a Lading report of another image, or of no image (DIGEST_MISMATCH, exit 3)', async () => {
    const foreign = { ...scanned, target: { ...scanned.target, ref: 'registry.example.com/other:2', digest: OTHER } };
    await assert.rejects(
      checkPredicate(type('lading-report'), foreign, subject, 'report.json'),
      refused(
        'DIGEST_MISMATCH',
        /^report\.json: the Lading report is of another image \(registry\.example\.com\/other:2 @ sha256:d{64}\), not registry\.example\.com\/app@sha256:c{64}$/,
      ),
    );
    await assert.rejects(
      checkPredicate(type('lading-report'), base, subject),
      refused('DIGEST_MISMATCH', /names no image digest/),
    );
    // The digest may come from repoTags (`name@sha256:…`), and an index binds the reports of its platforms.
    const byTag = { ...base, target: { ...base.target, repoTags: [`registry.example.com/app@${DIGEST}`] } };
    assert.deepEqual(reportImageDigests(byTag), [DIGEST]);
    await checkPredicate(type('lading-report'), byTag, subject);
    await checkPredicate(type('lading-report'), foreign, { ...subject, platformDigests: [OTHER] });
  });
});
