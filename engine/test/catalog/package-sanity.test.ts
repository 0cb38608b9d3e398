import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CATALOGERS } from '../../src/catalog/registry.js';
import { runCatalogers } from '../../src/catalog/run.js';
import { wantedFiles } from '../helpers/wanted-files.js';

const CONTROL_OR_BIDI = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd]/u;

/** Every file the registered catalogers want from `entries`, as the walk would hand them over (condensed). */
function walked(entries: Record<string, string | Buffer>) {
  const files = wantedFiles(entries);
  for (const [path, file] of files) {
    const condenser = CATALOGERS.find((c) => c.wants(path, file.meta) && c.condense);
    const kept = condenser?.condense?.(path, file.content);
    if (kept) file.content = kept;
  }
  return files;
}

describe('no cataloger reports a package a report cannot show', () => {
  it('skips, with a warning naming cataloger and file, names and versions holding control or bidi characters', async () => {
    const inventory = await runCatalogers(
      walked({
        '/app/node_modules/ok/package.json': JSON.stringify({ name: 'ok', version: '1.0.0' }),
        '/app/node_modules/evil/package.json': JSON.stringify({ name: 'evil\u001b[2J', version: '1.0.0' }),
        '/app/node_modules/rtl/package.json': JSON.stringify({ name: 'rtl', version: '1.0.0\u202e1.0.2' }),
        '/usr/lib/python3/site-packages/bad-1.dist-info/METADATA':
          'Metadata-Version: 2.1\nName: bad\u0007\nVersion: 1\n\n',
        '/srv/vendor/composer/installed.json': JSON.stringify({
          packages: [{ name: 'a/b', version: '1.0.0', license: ['MIT\u0000'] }],
        }),
      }),
      CATALOGERS,
    );
    assert.deepEqual(
      inventory.packages.map((p) => `${p.type}:${p.name}@${p.version} ${p.licenses.join(',')}`),
      ['composer:a/b@1.0.0 MIT', 'npm:ok@1.0.0 '],
    );
    const skipped = inventory.warnings.filter((w) => w.message.endsWith('; skipped'));
    assert.deepEqual(skipped.map((w) => [w.cataloger, w.path]).sort(), [
      ['npm', '/app/node_modules/evil/package.json'],
      ['npm', '/app/node_modules/rtl/package.json'],
      ['python', '/usr/lib/python3/site-packages/bad-1.dist-info/METADATA'],
    ]);
    for (const w of inventory.warnings) assert.doesNotMatch(w.message, CONTROL_OR_BIDI);
    assert.match(skipped.map((w) => w.message).join('\n'), /"evil\\u001b\[2J"[\s\S]*"1\.0\.0\\u202e1\.0\.2"/);
  });

  it('reports only printable names and versions whatever a package.json holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 20 }),
        async (name, version) => {
          const inventory = await runCatalogers(
            walked({ '/a/node_modules/x/package.json': JSON.stringify({ name, version }) }),
            CATALOGERS,
          );
          for (const p of inventory.packages) {
            assert.doesNotMatch(`${p.name}${p.version}${p.dependsOn?.join('') ?? ''}`, CONTROL_OR_BIDI);
            assert.ok(p.name !== '' && p.version !== '');
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
