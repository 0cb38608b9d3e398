import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { moduleStreamMatches } from '../../src/match/module-stream.js';
import type { OsvAffected, OsvRecord } from '../../src/model/osv.js';
import { releaseKey, suseRelease } from '../../src/vulndb/names.js';
import { packageRows } from '../../src/vulndb/package-rows.js';
import { FIXTURES } from '../vulndb/fixtures.js';
import { pkg } from './inventory-helpers.js';

const record = (folder: string, file: string) =>
  JSON.parse(readFileSync(join(FIXTURES, 'osv-distros', folder, file), 'utf8')) as OsvRecord;

describe('SUSE releases', () => {
  it('reduces products and modules to their service pack, and leaves other products alone', () => {
    assert.equal(suseRelease('SUSE:Linux Enterprise Server 15 SP5'), '15 SP5');
    assert.equal(suseRelease('SUSE:Linux Enterprise Module for Basesystem 15 SP5'), '15 SP5');
    assert.equal(suseRelease('SUSE:Linux Enterprise Server 15 SP5-LTSS'), '15 SP5');
    assert.equal(suseRelease('SUSE:Linux Enterprise Server for SAP Applications 15 SP4'), '15 SP4');
    assert.equal(suseRelease('SUSE:Linux Enterprise Server 12'), '12');
    assert.equal(suseRelease('SUSE:Linux Enterprise Micro 5.5'), 'Linux Enterprise Micro 5.5');
    assert.equal(suseRelease('openSUSE:Leap 15.5'), undefined);
    assert.equal(releaseKey('SUSE:Linux Enterprise Module for Basesystem 15 SP5'), 'SUSE:15 SP5');
    assert.equal(releaseKey('SUSE:Linux Enterprise Server 15 SP5'), 'SUSE:15 SP5');
    assert.equal(releaseKey('openSUSE:Leap 15.5'), 'openSUSE:Leap 15.5');
    assert.equal(releaseKey('SUSE'), 'SUSE');
  });

  it('never throws on arbitrary ecosystem text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        suseRelease(`SUSE:${s}`);
        return typeof releaseKey(`SUSE:${s}`) === 'string';
      }),
    );
  });
});

describe('module streams from real records', () => {
  it('keeps the rpmmod purl of a Red Hat modular package in the stored rows, drops other purls', () => {
    const rows = packageRows(record('Red Hat', 'RHSA-2024:5814.json'));
    const node = JSON.parse(rows.find((r) => r.name === 'nodejs')!.affected) as OsvAffected[];
    assert.match(node[0]?.package?.purl ?? '', /rpmmod=nodejs:20:/);
    const ssh = JSON.parse(packageRows(record('Red Hat', 'RHSA-2024:4312.json'))[0]!.affected) as OsvAffected[];
    assert.equal(ssh[0]?.package?.purl, undefined);
  });

  it('reads the stream from an AlmaLinux title only for modular fixes', () => {
    const alsa = record('AlmaLinux', 'ALSA-2023:5259.json');
    const affected = alsa.affected![0]!;
    const in103 = pkg('rpm', 'mariadb', '3:10.3.28-1.module_el8.3.0+2177+7adc332a', {
      metadata: { 'rpm.modularitylabel': 'mariadb:10.3:8030020210112:ab2d0a4e' },
    });
    const in105 = pkg('rpm', 'mariadb', '3:10.5.9-1.module_el8.4.0+2207+0e0e40c6', {
      metadata: { 'rpm.modularitylabel': 'mariadb:10.5:8040020210512:3c9e5a6f' },
    });
    assert.equal(moduleStreamMatches(in103, affected, alsa), true);
    assert.equal(moduleStreamMatches(in105, affected, alsa), false);
    // without the record the stream is unknown: modular against modular is all that can be said
    assert.equal(moduleStreamMatches(in105, affected), true);
  });

  it('survives malformed rpmmod qualifiers and titles', () => {
    const node = pkg('rpm', 'nodejs', '1:20.1-1.module+el9', { metadata: { 'rpm.modularitylabel': 'nodejs:20:1:x' } });
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (qualifier, summary) => {
        const affected: OsvAffected = {
          package: {
            ecosystem: 'Red Hat:enterprise_linux:9::appstream',
            name: 'nodejs',
            purl: `pkg:rpm/redhat/nodejs?rpmmod=${qualifier}`,
          },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:20.2-1.module+el9' }] }],
        };
        const result = moduleStreamMatches(node, affected, { id: 'X', modified: '', summary } as OsvRecord);
        return typeof result === 'boolean';
      }),
    );
    const withPurl = (purl: string): OsvAffected => ({
      package: { ecosystem: 'Red Hat:enterprise_linux:9::appstream', name: 'nodejs', purl },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:20.2-1.module+el9' }] }],
    });
    assert.equal(moduleStreamMatches(node, withPurl('pkg:rpm/redhat/nodejs?rpmmod=nodejs%3A20%3A1%3Ax')), true);
    assert.equal(moduleStreamMatches(node, withPurl('pkg:rpm/redhat/nodejs?arch=src&rpmmod=nodejs:18:1:x')), false);
    // an undecodable qualifier names no stream: only modular-against-modular is left to decide
    assert.equal(moduleStreamMatches(node, withPurl('pkg:rpm/redhat/nodejs?rpmmod=nodejs%3A20%ZZ')), true);
  });
});
