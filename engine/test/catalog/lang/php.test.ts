import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { phpComposerCataloger } from '../../../src/catalog/lang/php/cataloger.js';
import { ENGINE_ROOT } from '../../helpers/paths.js';
import { wantedFiles, wantedFromDir } from '../../helpers/wanted-files.js';

const ROOT = join(ENGINE_ROOT, 'test/fixtures/catalog/lang/php');
const env = { limits: DEFAULT_LIMITS };

describe('php composer', () => {
  it('reads Composer 2 and Composer 1 installed.json', async () => {
    const { packages, warnings } = await phpComposerCataloger.catalog(
      await wantedFromDir(ROOT, phpComposerCataloger),
      env,
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages
        .map((p) => [p.purl, p.licenses.join(','), p.dependsOn?.join(',') ?? '', p.metadata?.['composer.dev'] ?? ''])
        .sort(),
      [
        ['pkg:composer/monolog/monolog@2.9.1', 'MIT', 'psr/log', ''],
        ['pkg:composer/phpunit/phpunit@9.6.7', 'BSD-3-Clause', 'sebastian/version', 'true'],
        ['pkg:composer/psr/log@3.0.0', 'MIT', '', ''],
        ['pkg:composer/symfony/polyfill-mbstring@v1.11.0', 'MIT', '', ''],
      ],
    );
    assert.equal(
      packages.find((p) => p.name === 'psr/log')?.locations[0]?.path,
      '/var/www/app/vendor/composer/installed.json',
    );
  });

  it('warns on malformed documents and entries', async () => {
    const files = wantedFiles({
      '/a/vendor/composer/installed.json': '{"packages": [{"name": "x/y"}, {"name": "noslash", "version": "1"}, 5]}',
      '/b/vendor/composer/installed.json': '{"packages": {}}',
      '/c/vendor/composer/installed.json': '[{"name": "x/y", "version": "1.0"',
    });
    const { packages, warnings } = await phpComposerCataloger.catalog(files, env);
    assert.deepEqual(packages, []);
    assert.deepEqual(warnings.map((w) => w.path).sort(), [
      '/a/vendor/composer/installed.json',
      '/b/vendor/composer/installed.json',
      '/c/vendor/composer/installed.json',
    ]);
    assert.match(warnings.find((w) => w.path?.startsWith('/a/'))?.message ?? '', /3 entries/);
  });

  it('never throws on arbitrary JSON (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (doc) => {
        const files = wantedFiles({ '/v/vendor/composer/installed.json': JSON.stringify({ packages: [doc] }) });
        await phpComposerCataloger.catalog(files, env);
      }),
      { numRuns: 200 },
    );
  });
});
