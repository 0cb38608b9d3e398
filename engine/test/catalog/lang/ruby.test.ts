import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { rubyCataloger } from '../../../src/catalog/lang/ruby/cataloger.js';
import { ENGINE_ROOT } from '../../helpers/paths.js';
import { wantedFiles, wantedFromDir } from '../../helpers/wanted-files.js';

const ROOT = join(ENGINE_ROOT, 'test/fixtures/catalog/lang/ruby');
const SPECS = '/usr/share/rubygems-integration/all/specifications';
const env = { limits: DEFAULT_LIMITS };

describe('ruby gemspecs', () => {
  it('reads real installed specifications (Debian rake and addressable)', async () => {
    const { packages, warnings } = await rubyCataloger.catalog(await wantedFromDir(ROOT, rubyCataloger), env);
    assert.deepEqual(warnings, []);
    assert.deepEqual(packages.map((p) => [p.purl, p.licenses, p.dependsOn, p.locations[0]?.path]).sort(), [
      ['pkg:gem/addressable@2.8.1', ['Apache-2.0'], ['public_suffix'], `${SPECS}/addressable-2.8.1.gemspec`],
      ['pkg:gem/rake@13.0.6', ['MIT'], undefined, `${SPECS}/rake-13.0.6.gemspec`],
    ]);
  });

  it('handles other spellings: spec variable, single quotes, Gem::Version, license, stub fallback', async () => {
    const files = wantedFiles({
      '/gems/specifications/a-1.0.gemspec':
        "Gem::Specification.new do |spec|\n  spec.name = 'a'\n  spec.version = Gem::Version.new('1.0')\n  spec.license = %q{BSD-2-Clause}\n  spec.add_dependency(%q<b>, ['>= 1'])\nend\n",
      '/gems/specifications/c-2.gemspec': '# stub: c 2.0.1 ruby lib\n',
      '/gems/specifications/d.gemspec': 'puts "hello"',
    });
    const { packages, warnings } = await rubyCataloger.catalog(files, env);
    assert.deepEqual(packages.map((p) => `${p.purl} ${p.licenses.join(',')} ${p.dependsOn?.join(',') ?? ''}`).sort(), [
      'pkg:gem/a@1.0 BSD-2-Clause b',
      'pkg:gem/c@2.0.1  ',
    ]);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.path, '/gems/specifications/d.gemspec');
  });

  it('never throws or hangs on arbitrary text (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 3000 }), async (text) => {
        const started = Date.now();
        const src = `Gem::Specification.new do |s|\n  s.name = "${text}"\n  s.version = ${text}\n${text}`;
        await rubyCataloger.catalog(wantedFiles({ '/specifications/x.gemspec': src }), env);
        assert.ok(Date.now() - started < 500);
      }),
      { numRuns: 200 },
    );
  });
});
