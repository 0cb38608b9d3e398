import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildReport } from '../../src/report/build.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from '../../src/report/render-options.js';
import { renderCycloneDx } from '../../src/sbom/cyclonedx-writer.js';
import { renderSpdx } from '../../src/sbom/spdx-writer.js';
import { sampleFindings, sampleInventory, sampleReport, sampleTarget } from './sample-report.js';

const EPOCH: RenderOptions = { ...DEFAULT_RENDER_OPTIONS, sourceDateEpoch: 1_700_000_000 };

function withoutVolatile(text: string): unknown {
  const doc = JSON.parse(text) as Record<string, unknown>;
  delete doc['serialNumber'];
  delete doc['documentNamespace'];
  const metadata = doc['metadata'] as Record<string, unknown> | undefined;
  if (metadata) delete metadata['timestamp'];
  const creation = doc['creationInfo'] as Record<string, unknown> | undefined;
  if (creation) delete creation['created'];
  return JSON.stringify(doc, (k, v) => (k === 'annotationDate' ? undefined : v));
}

describe('deterministic SBOMs', () => {
  for (const [format, render] of [
    ['cyclonedx-json', renderCycloneDx],
    ['spdx-json', renderSpdx],
  ] as const) {
    it(`${format}: package order does not matter; only timestamp and serial differ without SOURCE_DATE_EPOCH`, () => {
      fc.assert(
        fc.property(fc.array(fc.nat(), { minLength: 9, maxLength: 9 }), (keys) => {
          const base = sampleReport();
          const shuffled = {
            ...base,
            packages: [...base.packages].sort(
              (a, b) => (keys[base.packages.indexOf(a)] ?? 0) - (keys[base.packages.indexOf(b)] ?? 0),
            ),
          };
          const later = { ...shuffled, createdAt: '2027-01-01T00:00:00.000Z' };
          assert.equal(
            withoutVolatile(render(base, DEFAULT_RENDER_OPTIONS)),
            withoutVolatile(render(later, DEFAULT_RENDER_OPTIONS)),
          );
          assert.equal(render(base, EPOCH), render(later, EPOCH), 'byte-identical under SOURCE_DATE_EPOCH');
        }),
        { numRuns: 20 },
      );
    });
  }

  it('SOURCE_DATE_EPOCH fixes timestamp, serial number and namespace; different content gets different ids', () => {
    const cdx = JSON.parse(renderCycloneDx(sampleReport(), EPOCH));
    assert.equal(cdx.metadata.timestamp, '2023-11-14T22:13:20Z');
    assert.match(cdx.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const spdx = JSON.parse(renderSpdx(sampleReport(), EPOCH));
    assert.equal(spdx.creationInfo.created, '2023-11-14T22:13:20Z');
    const inventory = sampleInventory();
    inventory.packages = inventory.packages.slice(1);
    const smaller = buildReport({
      target: sampleTarget(),
      inventory,
      findings: sampleFindings(sampleInventory()).slice(2),
      warnings: [],
      createdAt: new Date(),
    });
    assert.notEqual(JSON.parse(renderCycloneDx(smaller, EPOCH)).serialNumber, cdx.serialNumber);
    assert.notEqual(JSON.parse(renderSpdx(smaller, EPOCH)).documentNamespace, spdx.documentNamespace);
  });

  it('without SOURCE_DATE_EPOCH every document gets a fresh serial number and namespace', () => {
    const report = sampleReport();
    assert.notEqual(
      JSON.parse(renderCycloneDx(report, DEFAULT_RENDER_OPTIONS)).serialNumber,
      JSON.parse(renderCycloneDx(report, DEFAULT_RENDER_OPTIONS)).serialNumber,
    );
    assert.notEqual(
      JSON.parse(renderSpdx(report, DEFAULT_RENDER_OPTIONS)).documentNamespace,
      JSON.parse(renderSpdx(report, DEFAULT_RENDER_OPTIONS)).documentNamespace,
    );
  });
});
