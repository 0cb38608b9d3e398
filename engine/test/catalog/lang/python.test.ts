import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { pythonCataloger } from '../../../src/catalog/lang/python/cataloger.js';
import { ENGINE_ROOT } from '../../helpers/paths.js';
import { wantedFiles, wantedFromDir } from '../../helpers/wanted-files.js';
import { buildZip } from './zip-writer.js';

const ROOT = join(ENGINE_ROOT, 'test/fixtures/catalog/lang/python');
const DIST = '/usr/lib/python3/dist-packages';
const env = { limits: DEFAULT_LIMITS };

describe('python', () => {
  it('catalogs real dist-info, egg-info (dir and file) and egg metadata', async () => {
    const files = await wantedFromDir(ROOT, pythonCataloger);
    const { packages, warnings } = await pythonCataloger.catalog(files, env);
    assert.deepEqual(warnings, []);
    const got = packages.map((p) => [p.purl, p.licenses.join('|'), p.locations[0]?.path]).sort();
    assert.deepEqual(got, [
      ['pkg:pypi/cryptography@38.0.4', 'BSD-3-Clause OR Apache-2.0', `${DIST}/cryptography-38.0.4.dist-info/METADATA`],
      ['pkg:pypi/example@21.12', 'Apache Software License', '/opt/eggs/example-21.12-py3.6.egg!/EGG-INFO/PKG-INFO'],
      ['pkg:pypi/httplib2@0.20.4', 'MIT', `${DIST}/httplib2-0.20.4.dist-info/METADATA`],
      ['pkg:pypi/pip@23.0.1', 'MIT', `${DIST}/pip-23.0.1.dist-info/METADATA`],
      ['pkg:pypi/pyyaml@6.0', 'MIT', `${DIST}/PyYAML-6.0.dist-info/METADATA`],
      ['pkg:pypi/securesystemslib@0.26.0', 'MIT', `${DIST}/securesystemslib-0.26.0.dist-info/METADATA`],
      ['pkg:pypi/six@1.16.0', 'MIT', `${DIST}/six-1.16.0.egg-info/PKG-INFO`],
      ['pkg:pypi/wsgiref@0.1.2', 'PSF or ZPL', '/usr/lib/python2.7/wsgiref.egg-info'],
    ]);
    assert.equal(packages.find((p) => p.purl.includes('pyyaml'))?.name, 'PyYAML');
    // Requires-Dist with environment markers count; extras do not.
    assert.deepEqual(packages.find((p) => p.name === 'httplib2')?.dependsOn, ['pyparsing']);
    assert.equal(packages.find((p) => p.name === 'cryptography')?.dependsOn, undefined);
  });

  it('normalizes names per PEP 503 in the purl and maps license classifiers', async () => {
    const meta =
      'Metadata-Version: 2.1\nName: Python_Dateutil\nVersion: 2.8.2\nLicense: Dual License\n  with more text\n' +
      'Classifier: License :: OSI Approved :: BSD License\nClassifier: License :: OSI Approved :: Apache Software License\n' +
      'Requires-Dist: six (>=1.5)\n\nThe body: License: not a header\n';
    const { packages } = await pythonCataloger.catalog(
      wantedFiles({ '/site-packages/python_dateutil-2.8.2.dist-info/METADATA': meta }),
      env,
    );
    assert.equal(packages[0]?.purl, 'pkg:pypi/python-dateutil@2.8.2');
    assert.deepEqual(packages[0]?.licenses, ['BSD', 'Apache-2.0']);
    assert.deepEqual(packages[0]?.dependsOn, ['six']);
  });

  it('keeps only the header block of a huge METADATA', () => {
    const huge = Buffer.from(`Name: big\nVersion: 1\n\n${'x'.repeat(20 * 1024 * 1024)}`);
    const kept = pythonCataloger.condense?.('/a/big-1.dist-info/METADATA', huge);
    assert.equal(kept?.toString(), 'Name: big\nVersion: 1');
    const noBlank = Buffer.alloc(5 * 1024 * 1024, 'a');
    assert.ok((pythonCataloger.condense?.('/a/x-1.dist-info/METADATA', noBlank)?.length ?? 0) <= 256 * 1024);
  });

  it('warns on missing fields, broken eggs and egg bombs', async () => {
    const bomb = buildZip([{ name: 'EGG-INFO/PKG-INFO', data: Buffer.alloc(8 * 1024 * 1024, 0x41) }]);
    const files = wantedFiles({
      '/a/x-1.dist-info/METADATA': 'Metadata-Version: 2.1\nName: x\n',
      '/a/y.egg-info/PKG-INFO': '\u0000\u0001garbage',
      '/a/broken.egg': 'PK\u0003\u0004 not really',
      '/a/empty.egg': buildZip([{ name: 'x.py', data: '' }]),
      '/a/bomb.egg': bomb,
    });
    const { packages, warnings } = await pythonCataloger.catalog(files, {
      limits: { ...DEFAULT_LIMITS, maxInflateBytes: 1024 * 1024 },
    });
    assert.deepEqual(packages, []);
    assert.deepEqual(warnings.map((w) => w.path).sort(), [
      '/a/bomb.egg',
      '/a/broken.egg',
      '/a/empty.egg',
      '/a/x-1.dist-info/METADATA',
      '/a/y.egg-info/PKG-INFO',
    ]);
  });

  it('never throws on arbitrary header text (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 2000 }), async (text) => {
        const { packages, warnings } = await pythonCataloger.catalog(
          wantedFiles({ '/p/a.dist-info/METADATA': text }),
          env,
        );
        assert.equal(packages.length + warnings.length, 1);
      }),
      { numRuns: 300 },
    );
  });
});
