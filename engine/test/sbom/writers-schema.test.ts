import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { renderCycloneDx } from '../../src/sbom/cyclonedx-writer.js';
import { renderSpdx } from '../../src/sbom/spdx-writer.js';
import { sampleReport } from './sample-report.js';
import { cyclonedxValidator, errorsOf, spdxValidator } from './schemas.js';

describe('CycloneDX writer against the official schemas', () => {
  for (const version of ['1.5', '1.6', '1.7'] as const) {
    it(`validates as CycloneDX ${version}, with and without vulnerabilities`, () => {
      for (const findings of [true, false]) {
        const doc = JSON.parse(
          renderCycloneDx(sampleReport({ findings }), { ...DEFAULT_RENDER_OPTIONS, cyclonedxVersion: version }),
        );
        assert.equal(doc.specVersion, version);
        assert.equal('vulnerabilities' in doc, findings);
        const validate = cyclonedxValidator(version);
        assert.ok(validate(doc), errorsOf(validate));
      }
    });
  }

  it('the schema check can fail: a component without a name is rejected', () => {
    const doc = JSON.parse(renderCycloneDx(sampleReport(), DEFAULT_RENDER_OPTIONS));
    delete doc.components[1].name;
    assert.equal(cyclonedxValidator('1.6')(doc), false);
  });
});

describe('SPDX writer against the official schema', () => {
  it('validates as SPDX 2.3', () => {
    const validate = spdxValidator();
    const doc = JSON.parse(renderSpdx(sampleReport(), DEFAULT_RENDER_OPTIONS));
    const broken = structuredClone(doc);
    delete broken.packages[0].SPDXID;
    assert.ok(validate(doc), errorsOf(validate));
    assert.equal(validate(broken), false);
  });
});
