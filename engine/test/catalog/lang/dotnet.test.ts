import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { dotnetCataloger } from '../../../src/catalog/lang/dotnet/cataloger.js';
import { ENGINE_ROOT } from '../../helpers/paths.js';
import { wantedFiles, wantedFromDir } from '../../helpers/wanted-files.js';

const ROOT = join(ENGINE_ROOT, 'test/fixtures/catalog/lang/dotnet');
const env = { limits: DEFAULT_LIMITS };

describe('dotnet deps.json', () => {
  it('reports package libraries with dependencies and hashes, not projects', async () => {
    const { packages, warnings } = await dotnetCataloger.catalog(await wantedFromDir(ROOT, dotnetCataloger), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => [p.purl, p.dependsOn?.join(',') ?? '']),
      [
        ['pkg:nuget/Newtonsoft.Json@13.0.1', ''],
        ['pkg:nuget/Serilog.AspNetCore@6.1.0', 'Serilog'],
        ['pkg:nuget/Serilog@2.12.0', ''],
      ],
    );
    const hash = packages[0]?.hashes?.[0];
    assert.equal(hash?.alg, 'SHA-512');
    assert.equal(hash?.content.length, 128);
    assert.equal(packages[0]?.locations[0]?.path, '/app/webapi.deps.json');
  });

  it('warns on malformed JSON and a missing libraries object', async () => {
    const files = wantedFiles({ '/a/x.deps.json': '{"libraries": ', '/b/y.deps.json': '{"targets": {}}' });
    const { packages, warnings } = await dotnetCataloger.catalog(files, env);
    assert.deepEqual(packages, []);
    assert.equal(warnings.length, 2);
  });

  it('warns about package libraries whose key names no Name/Version instead of dropping them silently', async () => {
    const libraries = {
      'Good/1.0.0': { type: 'package' },
      NoVersion: { type: 'package' },
      'Trailing/': { type: 'package' },
      'App/1.0.0': { type: 'project' },
    };
    const files = wantedFiles({ '/a/x.deps.json': JSON.stringify({ libraries }) });
    const { packages, warnings } = await dotnetCataloger.catalog(files, env);
    assert.deepEqual(
      packages.map((p) => p.purl),
      ['pkg:nuget/Good@1.0.0'],
    );
    assert.deepEqual(
      warnings.map((w) => [w.path, w.message]),
      [['/a/x.deps.json', '2 libraries without a valid Name/Version: "NoVersion", "Trailing/"']],
    );
  });

  it('never throws on arbitrary JSON (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (libraries, targets) => {
        const doc = { runtimeTarget: { name: 't' }, targets: { t: targets }, libraries };
        await dotnetCataloger.catalog(wantedFiles({ '/a/x.deps.json': JSON.stringify(doc) }), env);
      }),
      { numRuns: 200 },
    );
  });
});
