// What re-analysis matches a stored package with (ingest/match-input.ts, migration 0010): canonical, ambiguous when
// two packages with one purl disagree, and read back exactly; junk in the column is refused, not guessed at.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AMBIGUOUS_MATCH_EXTRA,
  matchExtraOf,
  matchExtrasByPurl,
  matchedOs,
  matchOsOf,
  osFromMatchOs,
  packageFromRow,
} from '../src/ingest/match-input.js';

const row = {
  purl: 'pkg:deb/debian/libssl1.1@1.1.1n-0+deb11u5?arch=amd64',
  type: 'deb',
  name: 'libssl1.1',
  version: '1.1.1n-0+deb11u5',
};

describe('match inputs kept for re-analysis', () => {
  it('is canonical: metadata key order does not matter, a source version does', () => {
    const a = matchExtraOf({ source: { name: 'openssl' }, metadata: { b: '2', a: '1' } });
    const b = matchExtraOf({ source: { name: 'openssl' }, metadata: { a: '1', b: '2' } });
    assert.equal(a, b);
    assert.notEqual(
      a,
      matchExtraOf({ source: { name: 'openssl', version: '1.1.1n-0+deb11u5' }, metadata: { a: '1', b: '2' } }),
    );
    assert.notEqual(
      matchExtraOf({}),
      matchExtraOf({ source: { name: 'libssl1.1' } }),
      'no source is not the same name',
    );
    assert.equal(matchExtraOf({ metadata: {} }), matchExtraOf({}));
  });

  it('marks a purl ambiguous when two of an inventory’s packages disagree', () => {
    const extras = matchExtrasByPurl([
      { purl: 'pkg:npm/a@1', source: undefined, metadata: undefined },
      { purl: 'pkg:npm/a@1', source: undefined, metadata: undefined },
      { purl: 'pkg:rpm/x@1', metadata: { 'rpm.modularitylabel': 'nodejs:18' } },
      { purl: 'pkg:rpm/x@1', metadata: { 'rpm.modularitylabel': 'nodejs:20' } },
    ]);
    assert.equal(extras.get('pkg:npm/a@1'), matchExtraOf({}));
    assert.equal(extras.get('pkg:rpm/x@1'), AMBIGUOUS_MATCH_EXTRA);
  });

  it('gives the matcher back the package and the OS release it was stored from', () => {
    const extra = matchExtraOf({ source: { name: 'openssl', version: '1.1.1n-0+deb11u5' }, metadata: { k: 'v' } });
    const pkg = packageFromRow('id-1', row, extra);
    assert.deepEqual(
      {
        id: pkg.id,
        purl: pkg.purl,
        type: pkg.type,
        name: pkg.name,
        version: pkg.version,
        source: pkg.source,
        metadata: pkg.metadata,
      },
      { id: 'id-1', ...row, source: { name: 'openssl', version: '1.1.1n-0+deb11u5' }, metadata: { k: 'v' } },
    );
    const bare = packageFromRow('id-2', row, matchExtraOf({}));
    assert.equal(bare.source, undefined);
    assert.equal(bare.metadata, undefined);
    const os = { family: 'debian', version: '11', ecosystem: 'Debian:11', name: 'Debian GNU/Linux 11', eol: false };
    assert.deepEqual(osFromMatchOs(matchOsOf(os)), { family: 'debian', version: '11', ecosystem: 'Debian:11' });
    assert.deepEqual(matchedOs(os), { family: 'debian', version: '11', ecosystem: 'Debian:11' });
    assert.equal(osFromMatchOs(matchOsOf(undefined)), undefined);
    assert.deepEqual(osFromMatchOs(matchOsOf({ family: 'gentoo', version: '2.14' })), {
      family: 'gentoo',
      version: '2.14',
    });
  });

  it('refuses a match_os it did not write', () => {
    assert.throws(() => osFromMatchOs('{"ecosystem":"Debian:11"}'), /not an OS release/);
    assert.throws(() => osFromMatchOs('[1]'), /not an OS release/);
    assert.throws(() => osFromMatchOs('{'));
  });
});
