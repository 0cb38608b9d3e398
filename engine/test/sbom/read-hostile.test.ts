import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isLadingError, LadingError } from '../../src/errors/lading-error.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { renderCycloneDx } from '../../src/sbom/cyclonedx-writer.js';
import { parseSbom, readSbomFile } from '../../src/sbom/read.js';
import { tempDir } from '../helpers/tmp.js';
import { sampleReport } from './sample-report.js';

function rejects(text: string, code: string, message: RegExp): void {
  assert.throws(
    () => parseSbom(text, 'bad.json'),
    (err: unknown) => {
      assert.ok(err instanceof LadingError, `a LadingError, got ${String(err)}`);
      assert.equal(err.code, code);
      assert.equal(err.exitCode, 3);
      assert.match(err.message, message);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    },
  );
}

describe('hostile SBOM input', () => {
  it('invalid JSON, unknown formats and unsupported spec versions are one-line BAD_INPUT errors (exit 3)', () => {
    rejects(
      '{"bomFormat": "CycloneDX", "specVersion": "1.6", "compo',
      'BAD_INPUT',
      /^cannot read sbom:bad\.json: not valid JSON/,
    );
    rejects('[1,2,3]', 'BAD_INPUT', /not a CycloneDX or SPDX JSON document/);
    rejects('{\n\n  "a": tru\n\n}', 'BAD_INPUT', /not valid JSON/);
    rejects('{"hello": "world"}', 'BAD_INPUT', /not a CycloneDX or SPDX JSON document/);
    rejects(
      '{"bomFormat": "CycloneDX", "specVersion": "1.3"}',
      'BAD_INPUT',
      /spec version "1\.3" is not supported \(1\.4–1\.7 are\)/,
    );
    rejects('{"bomFormat": "CycloneDX", "specVersion": "2.0"}', 'BAD_INPUT', /"2\.0" is not supported/);
    rejects('{"bomFormat": "CycloneDX"}', 'BAD_INPUT', /spec version null/);
    rejects('{"spdxVersion": "SPDX-2.1"}', 'BAD_INPUT', /SPDX version "SPDX-2\.1" is not supported/);
    rejects('{"spdxVersion": "SPDX-3.0"}', 'BAD_INPUT', /not supported/);
    rejects(
      '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {"a": 1}}',
      'BAD_INPUT',
      /"components" is not an array/,
    );
    rejects('{"spdxVersion": "SPDX-2.3", "packages": "x"}', 'BAD_INPUT', /"packages" is not an array/);
  });

  it('every truncation of a real document is a clear error or a readable inventory, never a crash', () => {
    const text = renderCycloneDx(sampleReport(), DEFAULT_RENDER_OPTIONS);
    for (let cut = 0; cut < text.length; cut += 97) {
      try {
        parseSbom(text.slice(0, cut), 'cut.json');
      } catch (err) {
        assert.ok(isLadingError(err) && err.code === 'BAD_INPUT', `cut at ${cut}: ${String(err)}`);
      }
    }
  });

  it('wrong types anywhere inside components are skipped or warned about, never thrown (property test)', () => {
    const anything = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    );
    const component = fc.record(
      {
        type: anything,
        name: anything,
        version: anything,
        purl: fc.oneof(anything, fc.constant('pkg:npm/x@1')),
        licenses: anything,
        hashes: anything,
        properties: anything,
        components: anything,
        cpe: anything,
        group: anything,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(component, { maxLength: 8 }), anything, (components, dependencies) => {
        const doc = { bomFormat: 'CycloneDX', specVersion: '1.6', components, dependencies };
        const { inventory } = parseSbom(JSON.stringify(doc), 'fuzz.json');
        for (const p of inventory.packages) assert.equal(typeof p.name, 'string');
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record(
            {
              SPDXID: anything,
              name: anything,
              versionInfo: anything,
              externalRefs: anything,
              checksums: anything,
              licenseDeclared: anything,
              annotations: anything,
            },
            { requiredKeys: [] },
          ),
          { maxLength: 8 },
        ),
        anything,
        (packages, relationships) => {
          parseSbom(JSON.stringify({ spdxVersion: 'SPDX-2.3', packages, relationships }), 'fuzz.spdx.json');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('deeply nested components stop with a clear error instead of exhausting the stack', () => {
    // Built as text: JSON.stringify itself would overflow on this depth.
    const depth = 5_000;
    const open = '{"type":"library","name":"n","components":['.repeat(depth);
    const text = `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[${open}{"name":"leaf","purl":"pkg:npm/leaf@1"}${']}'.repeat(depth)}]}`;
    rejects(text, 'BAD_INPUT', /nest more than 64 levels/);
  });

  it('files over the size limit are refused before reading; missing files are IO errors', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'big.json');
    await writeFile(path, renderCycloneDx(sampleReport(), DEFAULT_RENDER_OPTIONS));
    await assert.rejects(
      readSbomFile(path, 1000),
      (err: unknown) => isLadingError(err) && err.code === 'LIMIT' && /over the 1000-byte limit/.test(err.message),
    );
    await assert.rejects(
      readSbomFile(join(dir, 'absent.json')),
      (err: unknown) => isLadingError(err) && err.code === 'IO' && /no such file/.test(err.message),
    );
    await assert.rejects(readSbomFile(dir), (err: unknown) => isLadingError(err) && err.code === 'IO');
  });

  it('100,000 components read in linear time and bounded memory', () => {
    const components = Array.from({ length: 100_000 }, (_, i) => ({
      'bom-ref': `ref-${i}`,
      type: 'library',
      name: `pkg-${i}`,
      version: `1.${i % 100}.0`,
      purl: `pkg:npm/pkg-${i}@1.${i % 100}.0`,
      licenses: [{ license: { id: 'MIT' } }],
    }));
    const dependencies = components.map((c, i) => ({
      ref: c['bom-ref'],
      dependsOn: i + 1 < components.length ? [`ref-${i + 1}`] : [],
    }));
    const text = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components, dependencies });
    const before = process.memoryUsage().heapUsed;
    const start = performance.now();
    const { inventory } = parseSbom(text, 'huge.json');
    const ms = performance.now() - start;
    const grownMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    assert.equal(inventory.packages.length, 100_000);
    assert.deepEqual(inventory.packages.find((p) => p.name === 'pkg-5')?.dependsOn, ['pkg-6']);
    assert.ok(ms < 15_000, `took ${ms.toFixed(0)} ms`);
    assert.ok(grownMb < 600, `heap grew ${grownMb.toFixed(0)} MB for a ${(text.length / 1e6).toFixed(0)} MB document`);
    console.log(
      `# 100k components: ${(text.length / 1e6).toFixed(1)} MB read in ${ms.toFixed(0)} ms, heap +${grownMb.toFixed(0)} MB`,
    );
  });
});

describe('SBOMs inside attestations', () => {
  it('reads the SBOM in an in-toto statement, in a DSSE envelope, and in the first line of an .intoto.jsonl', () => {
    const sbom = JSON.parse(renderCycloneDx(sampleReport(), DEFAULT_RENDER_OPTIONS));
    const statement = {
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://cyclonedx.org/bom',
      subject: [{ name: 'docker.io/acme/api', digest: { sha256: '9a1c' } }],
      predicate: sbom,
    };
    const envelope = {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      signatures: [],
    };
    const expected = parseSbom(JSON.stringify(sbom), 'plain.json').inventory.packages.length;
    assert.ok(expected > 0);
    assert.equal(parseSbom(JSON.stringify(statement), 'statement.json').inventory.packages.length, expected);
    assert.equal(parseSbom(JSON.stringify(envelope), 'envelope.json').inventory.packages.length, expected);
    assert.equal(
      parseSbom(`${JSON.stringify(envelope)}\n${JSON.stringify(envelope)}\n`, 'bundle.intoto.jsonl').inventory.packages
        .length,
      expected,
    );
    rejects(
      JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: '!!!' }),
      'BAD_INPUT',
      /payload is not base64 JSON/,
    );
    rejects(
      JSON.stringify({ ...statement, predicate: { hello: 1 } }),
      'BAD_INPUT',
      /not a CycloneDX or SPDX JSON document/,
    );
  });
});
