import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Package } from '../../src/model/package.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { renderCycloneDx } from '../../src/sbom/cyclonedx-writer.js';
import { parseSbom } from '../../src/sbom/read.js';
import { renderSpdx } from '../../src/sbom/spdx-writer.js';
import { sampleReport } from './sample-report.js';

function essentials(p: Package) {
  return { name: p.name, version: p.version, type: p.type, purl: p.purl, source: p.source };
}

describe('round trip: report → SBOM → inventory', () => {
  const report = sampleReport();
  const expected = report.packages.map(essentials);

  for (const version of ['1.5', '1.6', '1.7'] as const) {
    it(`CycloneDX ${version} gives back every package whole: ids, locations, arch, hashes, metadata, dependencies, OS`, () => {
      const text = renderCycloneDx(report, { ...DEFAULT_RENDER_OPTIONS, cyclonedxVersion: version });
      const { inventory, target } = parseSbom(text, 'out.cdx.json');
      assert.deepEqual(inventory.packages.map(essentials), expected);
      // `eol` is judged on the day of the scan; the rest must come back as written.
      assert.deepEqual(
        { ...inventory.os, eol: undefined, eolStatus: undefined },
        { ...report.os, eol: undefined, eolStatus: undefined },
      );
      assert.deepEqual(inventory.warnings, []);
      for (const original of report.packages) {
        const back = inventory.packages.find((p) => p.id === original.id);
        assert.ok(back, `package ${original.name} keeps its id`);
        assert.deepEqual(back.locations, original.locations);
        assert.equal(back.foundBy, original.foundBy);
        assert.equal(back.arch, original.arch);
        assert.deepEqual(back.metadata, original.metadata);
        // Dependencies only survive when they resolve to a package in the same document.
        const names = new Set(report.packages.filter((p) => p.type === original.type).map((p) => p.name));
        const resolvable = [...new Set((original.dependsOn ?? []).filter((n) => names.has(n)))].sort();
        assert.deepEqual(back.dependsOn ?? [], resolvable, `${original.name} dependsOn`);
      }
      assert.equal(target.digest, report.target.digest);
      assert.equal(target.imageId, report.target.imageId);
      assert.deepEqual(target.layers, report.target.layers);
    });
  }

  it('SPDX 2.3 gives back name, version, type, purl, source, locations and the OS', () => {
    const { inventory, target } = parseSbom(renderSpdx(report, DEFAULT_RENDER_OPTIONS), 'out.spdx.json');
    assert.deepEqual(inventory.packages.map(essentials), expected);
    assert.deepEqual(
      inventory.packages.map((p) => p.locations),
      report.packages.map((p) => p.locations),
    );
    assert.equal(inventory.os?.ecosystem, 'Debian:12');
    assert.equal(target.digest, report.target.digest);
    assert.deepEqual(inventory.warnings, []);
  });

  it('npm dependencies resolve to the nearest installed copy of a name', () => {
    const text = renderCycloneDx(report, DEFAULT_RENDER_OPTIONS);
    const doc = JSON.parse(text) as {
      components: { 'bom-ref': string; name: string; version?: string }[];
      dependencies: { ref: string; dependsOn: string[] }[];
    };
    const debugRef = doc.components.find((c) => c.name === 'debug')?.['bom-ref'];
    const deps = doc.dependencies.find((d) => d.ref === debugRef)?.dependsOn;
    assert.deepEqual(deps, ['pkg:npm/ms@2.0.0'], 'debug at /app/node_modules/debug uses /app/node_modules/ms');
    const root = doc.dependencies[0];
    assert.ok(root?.dependsOn.includes('lading:os:debian@12'));
    assert.ok(root?.dependsOn.includes('pkg:npm/express@4.19.2'));
    assert.ok(!root?.dependsOn.includes('pkg:npm/debug@2.6.9'), 'debug is reached through express');
    assert.equal(doc.dependencies.length, doc.components.length + 1, 'every component has a dependencies entry');
  });
});
